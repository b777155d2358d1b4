"""Electronic signatures (21 CFR 11.50, 11.70, 11.100, 11.200; DESIGN.md section 9 rules 6-7).

Signing asks for the password every time, goes through the same lockout as sign-in, and
writes the signature and its audit entry in one transaction. A signature is bound to the
signed record and to the sha256 of the exact content signed; ``verify_signature`` fails for a
signature moved or copied to another record, or for content that changed after signing.
"""
import hashlib
import hmac
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth import authenticate
from django.db import models, transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac

from accounts import throttle

from . import context, signed_content
from .chain import canonical_json, timestamp
from .models import Meaning, Signature
from .trail import object_ref, record_event

_SALT = "audit.signature.binding"
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")


class SignatureRefused(Exception):
    """Signing was refused; ``str()`` is the message to show the signer."""


def content_sha256(content: bytes | str | dict | list) -> str:
    """sha256 of what is signed: bytes as they are, text as UTF-8, JSON-able data canonically
    (sorted keys, no spaces), so the same record always hashes the same."""
    if isinstance(content, dict | list):
        content = canonical_json(content)
    if isinstance(content, str):
        content = content.encode()
    return hashlib.sha256(content).hexdigest()


BINDING_FIELDS = (
    "signer_id",
    "signer_username",
    "printed_name",
    "signed_at",
    "meaning",
    "object_type",
    "object_id",
    "content_sha256",
    "reason",
)


def _binding(fields: dict, secret: str | None = None) -> str:
    payload = {name: fields[name] for name in BINDING_FIELDS}
    payload["signed_at"] = timestamp(payload["signed_at"])
    payload["meaning"] = str(payload["meaning"])
    payload["object_id"] = str(payload["object_id"])
    message = canonical_json(payload).encode()
    return salted_hmac(_SALT, message, secret=secret, algorithm="sha256").hexdigest()


def _check_password(user, password: str, target: models.Model) -> None:
    """Refuse, and count the failure toward the sign-in lockout, unless ``password`` is the
    signer's. Failures are committed before the refusal is raised."""
    username = user.get_username()
    address = context.current().client_address
    with transaction.atomic():
        throttle.hold_account(username)  # parallel signing attempts are checked one by one
        if throttle.locked_out(username, address):
            record_event(action="signature.refused", actor=user, target=target,
                         reason="locked out after repeated failed attempts")
            refusal = throttle.lockout_message()
        elif authenticate(username=username, password=password) != user:
            throttle.note_failure(username, address)
            record_event(action="signature.refused", actor=user, target=target,
                         reason="password not correct")
            refusal = "The password is not correct; the record was not signed. Enter your own."
        else:
            throttle.clear_failures(username)
            return
    raise SignatureRefused(refusal)


def do_sign(
    request_user,
    password: str,
    target: models.Model,
    content_sha256: str,
    meaning: Meaning | str,
    reason: str = "",
    then: Callable[[Signature], Any] | None = None,
    versions: dict | None = None,
) -> Signature:
    """Sign ``target`` as ``request_user`` and return the Signature.

    ``password``: the signer's password, asked for again at every signing. A wrong one raises
    ``SignatureRefused`` (message for the user), counts toward the sign-in lockout and is
    audited (``signature.refused``); a locked-out account cannot sign.
    ``target``: the saved record being signed (a mask version, a prompt version, a QA item).
    ``content_sha256``: sha256 (64 lowercase hex digits) of the exact content the signer saw
    and signed, e.g. the mask version's stored hash or ``content_sha256(data)``.
    ``meaning``: a ``Meaning`` ("confirmed as accurate", "rejected", "approved", ...).
    ``reason``: the signer's reason or comment where the action has one.
    ``then``: the state change the signature stands for (e.g. ``lambda sig:
    result.confirm(sig)``), run inside the signing transaction after the signature is
    written; if it raises, nothing is signed. Prefer it to wrapping ``do_sign`` in your own
    ``transaction.atomic()``: a refused password would then be rolled back with your
    transaction and escape the lockout count.
    ``versions``: what the signed record depends on (engine, weights sha256, prompt version),
    recorded on the signing entry.

    Writes one ``signature.sign`` audit entry on the target carrying the signature's binding.
    Show the result with ``Signature.manifestation()``, ``{% signatures_of obj %}`` (template
    tag library ``audit_tags``) or ``audit.serializers.SignatureSerializer``.
    """
    meaning = Meaning(meaning)
    if not _SHA256_HEX.fullmatch(content_sha256 or ""):
        raise ValueError("content_sha256 must be 64 lowercase hexadecimal digits")
    if target.pk is None:
        raise ValueError("Only a saved record can be signed.")
    if not getattr(request_user, "is_authenticated", False):
        raise SignatureRefused("Sign in before signing.")
    _check_password(request_user, password, target)
    object_type, object_id = object_ref(target)
    with transaction.atomic():
        signed_at = timezone.now()
        fields = {
            "signer_id": request_user.pk,
            "signer_username": request_user.get_username(),
            "printed_name": request_user.get_printed_name(),
            "signed_at": signed_at,
            "meaning": meaning.value,
            "object_type": object_type,
            "object_id": object_id,
            "content_sha256": content_sha256,
            "reason": reason or "",
        }
        binding = _binding(fields)
        entry = record_event(
            action="signature.sign",
            actor=request_user,
            target=target,
            new={
                "meaning": meaning.value,
                "printed_name": fields["printed_name"],
                "signed_at": timestamp(signed_at),
                "content_sha256": content_sha256,
                "binding": binding,
            },
            reason=reason,
            versions=versions,
        )
        signature = Signature.objects.create(**fields, binding=binding, audit_entry=entry)
        if then is not None:
            then(signature)
    return signature


@dataclass(frozen=True)
class SignatureCheck:
    valid: bool
    problem: str = ""

    def __bool__(self) -> bool:
        return self.valid


def verify_signature(sig: Signature, target: models.Model, content_sha256: str) -> SignatureCheck:
    """Whether ``sig`` is a genuine signature of ``target`` with exactly this content."""
    if (sig.object_type, sig.object_id) != object_ref(target):
        return SignatureCheck(False, "the signature belongs to another record")
    if sig.content_sha256 != content_sha256:
        return SignatureCheck(False, "the content changed after it was signed")
    return signature_intact(sig)


def signature_intact(sig: Signature) -> SignatureCheck:
    """Whether the signature row is as it was written: its fields match its binding and the
    audit trail recorded it. Says nothing about the signed content; see ``verify_signature``."""
    secrets = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    fields = {name: getattr(sig, name) for name in BINDING_FIELDS}
    if not any(hmac.compare_digest(sig.binding, _binding(fields, key)) for key in secrets):
        return SignatureCheck(False, "the signature's fields do not match its binding")
    entry = sig.audit_entry
    recorded = entry.new_values.get("binding") if isinstance(entry.new_values, dict) else None
    if (
        entry.action != "signature.sign"
        or (entry.object_type, entry.object_id) != (sig.object_type, sig.object_id)
        or entry.actor_id != sig.signer_id
        or recorded != sig.binding
    ):
        return SignatureCheck(False, "the audit trail does not record this signature")
    return SignatureCheck(True)


def verify_against_record(sig: Signature) -> SignatureCheck:
    """``verify_signature`` against the signed record's content as stored now, recomputed from
    its bytes (``audit.signed_content``); for kinds with no registered content, the row's own
    integrity (``signature_intact``)."""
    if not signed_content.registered(sig.object_type):
        return signature_intact(sig)
    try:
        current = signed_content.current_sha256(sig.object_type, sig.object_id)
    except signed_content.ContentUnavailable as missing:
        return SignatureCheck(False, f"the signed record cannot be read: {missing}")
    if not hmac.compare_digest(sig.content_sha256, current):
        return SignatureCheck(False, "the content changed after it was signed")
    return signature_intact(sig)


def signatures_of(target: models.Model):
    object_type, object_id = object_ref(target)
    return Signature.objects.filter(object_type=object_type, object_id=object_id)


def checked(signatures):
    """``[{"signature": sig, "check": SignatureCheck}]`` for display, each checked against its
    record's content as stored now (``verify_against_record``)."""
    return [{"signature": sig, "check": verify_against_record(sig)} for sig in signatures]
