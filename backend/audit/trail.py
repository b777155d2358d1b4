"""Writing to the audit trail. Every audited change and every read of patient data calls
``record_event`` inside the same transaction as the change (the action pattern)."""
import ipaddress

from django.db import models, transaction
from django.utils import timezone

from . import context
from .anchors import anchor_when_due
from .chain import GENESIS_HASH, entry_hash, normalise, storable_text
from .models import AuditChainHead, AuditEntry
from .scope import site_of


def object_ref(target: models.Model | None) -> tuple[str, str]:
    if target is None:
        return "", ""
    return target._meta.label_lower, str(target.pk)


def canonical_address(value: str | None) -> str | None:
    """The address as the database gives it back (IPv4-mapped IPv6 as IPv4, compressed IPv6),
    so the hash computed now still matches when the chain is verified; None if not an IP."""
    if not value:
        return None
    try:
        address = ipaddress.ip_address(value.split("%")[0].strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return str(address)


def _authenticated(user) -> bool:
    return user is not None and bool(getattr(user, "is_authenticated", False))


def record_event(
    *,
    action: str,
    actor=None,
    target: models.Model | None = None,
    object_type: str = "",
    object_id: str = "",
    old: dict | None = None,
    new: dict | None = None,
    reason: str = "",
    versions: dict | None = None,
    client_address: str | None = None,
    site=None,
) -> AuditEntry:
    """Append one entry to the chain and return it.

    Call it inside the transaction that makes the change, so that neither survives without
    the other. ``action`` is ``<domain>.<verb>`` (``result.confirm``, ``image.read``).
    ``target`` (a saved model instance) or ``object_type``/``object_id`` name what was acted
    on. ``old``/``new`` hold the changed fields (JSON-able; other values are stored as their
    ``str``). ``reason`` is the user's reason where the action asks for one; ``versions`` what
    the object depends on (engine, weights sha256, prompt version). The actor defaults to the
    signed-in user of the current request and the client address to its address (see
    ``audit.context``); pass ``actor`` explicitly in tasks and commands. The entry's site
    (who may read it) is ``site`` where given, else found from the object or the actor
    (``audit.scope.site_of``).
    """
    if target is not None:
        object_type, object_id = object_ref(target)
    ctx = context.current()
    if actor is None and _authenticated(ctx.current_actor()):
        actor = ctx.current_actor()
    authenticated = _authenticated(actor)
    # Looked up before the chain head is locked: the lock is held for the insert only.
    site_id = site_of(site=site, target=target, object_type=object_type,
                      object_id=str(object_id), actor=actor if authenticated else None)
    with transaction.atomic():
        head, _ = AuditChainHead.objects.select_for_update().get_or_create(
            id=1, defaults={"last_seq": 0, "last_hash": GENESIS_HASH}
        )
        fields = {
            "seq": head.last_seq + 1,
            "at": timezone.now(),
            "actor_id": actor.pk if authenticated else None,
            "actor_username": actor.get_username() if authenticated else "",
            "actor_printed_name": actor.get_printed_name() if authenticated else "",
            "action": action,
            "object_type": object_type,
            "object_id": storable_text(str(object_id)),
            "old_values": normalise(old),
            "new_values": normalise(new),
            "reason": storable_text(reason or ""),
            "client_address": canonical_address(client_address or ctx.client_address),
            "channel": ctx.channel,
            "versions": normalise(versions),
            "prev_hash": head.last_hash,
            "site_id": site_id,
        }
        fields["entry_hash"] = entry_hash(fields)
        entry = AuditEntry.objects.create(**fields)
        AuditChainHead.objects.filter(id=1).update(
            last_seq=entry.seq, last_hash=entry.entry_hash
        )
        anchor_when_due(entry.seq, entry.entry_hash)
    return entry
