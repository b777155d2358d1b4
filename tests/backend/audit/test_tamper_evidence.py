"""Tampering that hash chains without a key miss (issue 20, item 5): history rewritten and
rehashed, and a tail cut off with the chain head moved back. The chain is keyed with a secret
outside the database, its head is anchored outside the database, and every signature is
checked against its record."""
import json

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from audit.anchors import read_anchors, write_anchor
from audit.chain import GENESIS_HASH, HASHED_FIELDS, entry_hash, legacy_entry_hash
from audit.models import AuditChainHead, AuditEntry, Signature
from audit.signatures import content_sha256, do_sign
from audit.trail import record_event
from audit.verify import verify_chain
from tests.conftest import PASSWORD


@pytest.fixture
def trail(users, sites):
    """A trail with two patient reads and a signature, anchored by an intact check."""
    record_event(action="series.open", actor=users["annotator"], object_type="imaging.series",
                 object_id="7", new={"patient": "P-1"})
    do_sign(users["annotator"], PASSWORD, sites["home"], content_sha256(b"mask"), "confirmed")
    record_event(action="series.open", actor=users["annotator"], object_type="imaging.series",
                 object_id="8", new={"patient": "P-2"})
    record_event(action="test.after", new={"n": 1})
    call_command("audit_verify")  # an intact check anchors the head
    return AuditEntry.objects.order_by("seq")


def rows():
    return [dict(e) for e in AuditEntry.objects.order_by("seq").values(*HASHED_FIELDS,
                                                                       "entry_hash", "id")]


def rewrite(kept: list[dict], hasher, behind_the_triggers) -> None:
    """What someone with database-owner rights does to hide entries: drop the triggers, delete
    the trail, renumber what is kept, recompute every link and hash with ``hasher`` and move the
    chain head to the new end."""
    prev = GENESIS_HASH
    rebuilt = []
    for number, row in enumerate(kept, start=1):
        fields = {name: row[name] for name in HASHED_FIELDS}
        fields.update(seq=number, prev_hash=prev)
        fields["entry_hash"] = prev = hasher(fields)
        rebuilt.append((row["id"], fields))
    with behind_the_triggers() as conn, conn.cursor() as cursor:
        for entry_id, fields in rebuilt:
            cursor.execute(
                "UPDATE audit_auditentry SET seq = %s, prev_hash = %s, entry_hash = %s, "
                "actor_printed_name = %s, reason = %s WHERE id = %s",
                [-fields["seq"], fields["prev_hash"], fields["entry_hash"],
                 fields["actor_printed_name"], fields["reason"], entry_id],
            )
        kept_ids = [entry_id for entry_id, _ in rebuilt]
        gone = AuditEntry.objects.exclude(id__in=kept_ids).values_list("id", flat=True)
        gone = list(gone)
        signed = [g for g in gone if Signature.objects.filter(audit_entry_id=g).exists()]
        if signed:
            cursor.execute(f"DELETE FROM audit_signature WHERE audit_entry_id IN "
                           f"({','.join(map(str, signed))})")
        if gone:
            cursor.execute(f"DELETE FROM audit_auditentry WHERE id IN ({','.join(map(str, gone))})")
        cursor.execute("UPDATE audit_auditentry SET seq = -seq WHERE seq < 0")
    AuditChainHead.objects.filter(id=1).update(last_seq=len(rebuilt), last_hash=prev)


def without_patient_reads(entries: list[dict]) -> list[dict]:
    return [e for e in entries if e["action"] != "series.open"]


def test_an_edited_entry_is_found(trail, behind_the_triggers):
    with behind_the_triggers() as conn, conn.cursor() as cursor:
        cursor.execute("UPDATE audit_auditentry SET reason = 'innocent' WHERE seq = 2")
    report = verify_chain()
    assert (report.intact, report.broken_seq) == (False, 2)
    assert "altered" in report.problem


def test_history_rewritten_and_rehashed_without_the_key_is_found(trail, behind_the_triggers):
    # The plain sha256 chain an attacker can compute from what the database holds.
    rewrite(without_patient_reads(rows()), legacy_entry_hash, behind_the_triggers)
    report = verify_chain()
    assert not report.intact
    assert report.broken_seq == 1
    assert "without the audit key" in report.problem
    with pytest.raises(CommandError, match="chain broken at entry #1"):
        call_command("audit_verify")


def test_history_rewritten_with_a_changed_signer_and_a_guessed_key_is_found(
        trail, behind_the_triggers):
    kept = without_patient_reads(rows())
    for row in kept:
        if row["action"] == "signature.sign":
            row["actor_printed_name"] = "Dr. Somebody Else"

    def guessed_key(fields):
        import hashlib
        import hmac

        from audit.chain import _content

        return hmac.new(b"not the key", _content(fields), hashlib.sha256).hexdigest()

    rewrite(kept, guessed_key, behind_the_triggers)
    report = verify_chain()
    assert (report.intact, report.broken_seq) == (False, 1)
    assert "content does not match its hash" in report.problem


def test_history_rewritten_even_with_the_key_disagrees_with_the_anchor(
        trail, behind_the_triggers):
    """Someone who also stole the key rebuilds a valid keyed chain; the anchor outside the
    database still records the trail as it was."""
    anchored = read_anchors()[-1]
    rewrite(without_patient_reads(rows()), entry_hash, behind_the_triggers)
    report = verify_chain()
    assert not report.intact
    assert f"the anchor of {anchored.at} recorded {anchored.count} entries" in report.problem
    assert "cut short" in report.problem


def test_a_rewrite_that_keeps_the_length_disagrees_with_the_anchor(trail, behind_the_triggers):
    anchored = read_anchors()[-1]
    kept = rows()
    kept[1]["reason"] = "rewritten with the stolen key"
    rewrite(kept, entry_hash, behind_the_triggers)
    report = verify_chain()
    assert (report.intact, report.broken_seq) == (False, anchored.count)
    assert "differs from the anchor" in report.problem
    assert "history rewritten" in report.problem


def test_a_cut_off_tail_with_the_head_moved_back_is_found_by_the_anchor(
        trail, behind_the_triggers):
    entries = rows()
    last_kept = entries[-3]
    with behind_the_triggers() as conn, conn.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditentry WHERE seq > %s", [last_kept["seq"]])
    AuditChainHead.objects.filter(id=1).update(last_seq=last_kept["seq"],
                                               last_hash=last_kept["entry_hash"])
    report = verify_chain()
    assert not report.intact
    assert report.broken_seq == last_kept["seq"] + 1
    assert "cut short" in report.problem
    with pytest.raises(CommandError, match="the trail was cut short"):
        call_command("audit_verify")


def test_the_same_cut_without_an_anchor_is_what_the_anchor_is_for(
        db, behind_the_triggers, audit_anchor_file):
    """The baseline: without the anchor the keyed chain alone cannot see a cut-off tail."""
    for n in range(5):
        record_event(action="test.entry", new={"n": n})
    entries = rows()
    with behind_the_triggers() as conn, conn.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditentry WHERE seq > 3")
    AuditChainHead.objects.filter(id=1).update(last_seq=3, last_hash=entries[2]["entry_hash"])
    assert verify_chain().intact
    write_anchor(5, entries[4]["entry_hash"])
    assert "cut short" in verify_chain().problem


def test_entries_anchor_themselves_at_the_interval(db, settings, audit_anchor_file,
                                                   django_capture_on_commit_callbacks):
    settings.AUDIT_ANCHOR_EVERY = 3
    with django_capture_on_commit_callbacks(execute=True):
        entries = [record_event(action="test.entry", new={"n": n}) for n in range(7)]
    assert [(a.count, a.head_hash) for a in read_anchors()] == [
        (3, entries[2].entry_hash), (6, entries[5].entry_hash)]
    assert verify_chain().anchored_through == 6


def test_a_removed_anchor_file_is_found_once_the_trail_outgrows_the_interval(
        db, settings, audit_anchor_file, django_capture_on_commit_callbacks):
    settings.AUDIT_ANCHOR_EVERY = 2
    with django_capture_on_commit_callbacks(execute=True):
        for n in range(5):
            record_event(action="test.entry", new={"n": n})
    audit_anchor_file.unlink()
    report = verify_chain()
    assert not report.intact
    assert "no anchor vouches for entries #1..#5" in report.problem


def test_a_forged_anchor_line_is_refused(trail, audit_anchor_file):
    with open(audit_anchor_file, "a") as stream:
        stream.write(json.dumps({"count": 1, "head": "0" * 64, "at": "x", "mac": "f" * 64})
                     + "\n")
    report = verify_chain()
    assert not report.intact
    assert "not signed with the audit key" in report.problem


def test_the_anchor_file_is_private_to_the_service(trail, audit_anchor_file):
    assert audit_anchor_file.stat().st_mode & 0o777 == 0o600


def test_a_signature_whose_signer_was_changed_is_found(trail, behind_the_triggers):
    with behind_the_triggers() as conn, conn.cursor() as cursor:
        cursor.execute("UPDATE audit_signature SET printed_name = 'Dr. Somebody Else'")
    report = verify_chain()
    assert not report.intact
    assert report.broken_seq is None
    assert report.bad_signatures and "do not match its binding" in report.bad_signatures[0]


def test_verification_on_a_fresh_install_needs_the_key(db, settings):
    from django.core.exceptions import ImproperlyConfigured

    settings.AUDIT_CHAIN_KEY = ""
    with pytest.raises(ImproperlyConfigured, match="MEDSAM_AUDIT_KEY"):
        record_event(action="test.entry")
    assert connection.vendor in {"sqlite", "postgresql"}
