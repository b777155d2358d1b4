"""Electronic signatures: password again, printed name, time and meaning, bound to the exact
content and to the record; a copy on another record does not verify."""
from datetime import timedelta

import pytest
from django.db import transaction
from django.template import Context, Template
from django.utils import timezone

from accounts.models import LoginFailure
from audit.models import AuditEntry, Meaning, Signature
from audit.signatures import (
    SignatureRefused,
    content_sha256,
    do_sign,
    signature_intact,
    verify_signature,
)
from audit.trail import record_event
from tests.conftest import PASSWORD

MASK = content_sha256(b"\x00\x01 mask version 1 bytes")


@pytest.fixture
def signer(users):
    return users["annotator"]


@pytest.fixture
def record(sites):
    return sites["home"]


def test_it_signs_with_printed_name_time_meaning_and_content_hash(signer, record):
    sig = do_sign(signer, PASSWORD, record, MASK, Meaning.CONFIRMED)
    stored = Signature.objects.get(pk=sig.pk)
    assert stored.printed_name == "Dr. Annotator Owner"
    assert stored.signer_username == "annotator_owner"
    assert stored.get_meaning_display() == "confirmed as accurate"
    assert abs(stored.signed_at - timezone.now()) < timedelta(seconds=30)
    assert (stored.object_type, stored.object_id) == ("accounts.site", str(record.pk))
    assert stored.content_sha256 == MASK
    assert verify_signature(stored, record, MASK)
    assert stored.manifestation().startswith("Dr. Annotator Owner (annotator_owner), 20")
    assert stored.manifestation().endswith("UTC: confirmed as accurate")


def test_signing_writes_exactly_one_entry_carrying_the_binding(signer, record):
    before = AuditEntry.objects.count()
    sig = do_sign(signer, PASSWORD, record, MASK, "rejected", reason="leaks into the liver",
                  versions={"engine": "litemedsam", "prompt_version": "7"})
    assert AuditEntry.objects.count() == before + 1
    entry = AuditEntry.objects.get(action="signature.sign")
    assert (entry.actor_id, entry.object_id, entry.reason) == (
        signer.pk, str(record.pk), "leaks into the liver"
    )
    assert entry.new_values["binding"] == sig.binding
    assert entry.new_values["meaning"] == "rejected"
    assert entry.new_values["content_sha256"] == MASK
    assert entry.versions == {"engine": "litemedsam", "prompt_version": "7"}


def test_a_wrong_password_is_refused_counted_and_audited(signer, record):
    with pytest.raises(SignatureRefused, match="password is not correct"):
        do_sign(signer, "not my password 1", record, MASK, Meaning.CONFIRMED)
    assert not Signature.objects.exists()
    refused = AuditEntry.objects.get(action="signature.refused")
    assert (refused.actor_id, refused.object_id) == (signer.pk, str(record.pk))
    assert LoginFailure.objects.filter(username=signer.username).count() == 1


def test_another_users_password_does_not_sign(users, record):
    users["reviewer"].set_password("the reviewer's own 77")
    users["reviewer"].save()
    with pytest.raises(SignatureRefused):
        do_sign(users["annotator"], "the reviewer's own 77", record, MASK, Meaning.CONFIRMED)
    assert not Signature.objects.exists()


def test_a_locked_out_account_cannot_sign_even_with_the_right_password(signer, record, settings):
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        with pytest.raises(SignatureRefused):
            do_sign(signer, "guess 123456", record, MASK, Meaning.CONFIRMED)
    with pytest.raises(SignatureRefused, match="Too many failed sign-in attempts"):
        do_sign(signer, PASSWORD, record, MASK, Meaning.CONFIRMED)
    assert not Signature.objects.exists()


def test_an_inactive_user_cannot_sign(signer, record):
    signer.is_active = False
    signer.save()
    with pytest.raises(SignatureRefused):
        do_sign(signer, PASSWORD, record, MASK, Meaning.CONFIRMED)


def test_a_signature_copied_onto_another_record_does_not_verify(signer, sites):
    original = do_sign(signer, PASSWORD, sites["home"], MASK, Meaning.CONFIRMED)
    forged_entry = record_event(action="signature.sign", actor=signer, target=sites["other"],
                                new={"binding": original.binding})
    copied = {
        f.attname: getattr(original, f.attname)
        for f in Signature._meta.concrete_fields
        if f.attname not in {"id", "audit_entry_id"}
    }
    copy = Signature.objects.create(
        **{**copied, "object_id": str(sites["other"].pk)}, audit_entry=forged_entry
    )
    check = verify_signature(copy, sites["other"], MASK)
    assert not check
    assert check.problem == "the signature's fields do not match its binding"
    moved = verify_signature(original, sites["other"], MASK)
    assert moved.problem == "the signature belongs to another record"


def test_a_signature_reusing_another_signatures_entry_is_refused(signer, sites):
    from django.db import IntegrityError

    original = do_sign(signer, PASSWORD, sites["home"], MASK, Meaning.CONFIRMED)
    fields = {f.attname: getattr(original, f.attname) for f in Signature._meta.concrete_fields
              if f.attname != "id"}
    with pytest.raises(IntegrityError), transaction.atomic():
        Signature.objects.create(**fields)


def test_a_signature_does_not_verify_once_the_content_changed(signer, record):
    sig = do_sign(signer, PASSWORD, record, MASK, Meaning.CONFIRMED)
    check = verify_signature(sig, record, content_sha256(b"edited after signing"))
    assert check.problem == "the content changed after it was signed"


def test_a_signature_edited_behind_the_triggers_back_does_not_verify(
    signer, record, behind_the_triggers
):
    sig = do_sign(signer, PASSWORD, record, MASK, Meaning.REJECTED)
    with behind_the_triggers() as connection, connection.cursor() as cursor:
        cursor.execute("UPDATE audit_signature SET meaning = 'confirmed' WHERE id = %s", [sig.pk])
    edited = Signature.objects.get(pk=sig.pk)
    assert not signature_intact(edited)
    assert not verify_signature(edited, record, MASK)


def test_when_the_signed_change_fails_nothing_is_signed(signer, record):
    before = AuditEntry.objects.count()

    def confirm(sig):
        raise ValueError("result was superseded meanwhile")

    with pytest.raises(ValueError):
        do_sign(signer, PASSWORD, record, MASK, Meaning.CONFIRMED, then=confirm)
    assert not Signature.objects.exists()
    assert AuditEntry.objects.count() == before


def test_the_signed_change_runs_with_the_signature(signer, record):
    seen = []
    sig = do_sign(signer, PASSWORD, record, MASK, Meaning.APPROVED, then=seen.append)
    assert seen == [sig]


@pytest.mark.parametrize(
    ("digest", "meaning"),
    [("ABC", Meaning.CONFIRMED), (MASK.upper(), Meaning.CONFIRMED), (MASK, "looks fine")],
)
def test_it_refuses_a_malformed_hash_or_an_unknown_meaning(signer, record, digest, meaning):
    with pytest.raises(ValueError):
        do_sign(signer, PASSWORD, record, digest, meaning)
    assert not Signature.objects.exists()


def test_every_display_shows_the_signature(signer, record):
    do_sign(signer, PASSWORD, record, MASK, Meaning.CONFIRMED)
    template = Template("{% load audit_tags %}{% signatures_of record %}")
    html = template.render(Context({"record": record}))
    assert "Dr. Annotator Owner" in html
    assert "confirmed as accurate" in html
    assert " UTC" in html
    assert "does not verify" not in html
    # A mask whose stored bytes changed is flagged: tests/backend/annotations/test_signed_masks.py


def test_content_is_hashed_canonically():
    assert content_sha256({"b": 1, "a": [1, 2]}) == content_sha256({"a": [1, 2], "b": 1})
    assert content_sha256("text") == content_sha256(b"text")
