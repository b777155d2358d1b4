"""audit_verify and verify_chain: an intact chain is reported as such; any edit, forgery,
removal or truncation is found, at the first entry that does not fit."""
import pytest
from django.core.management import CommandError, call_command

from audit.models import AuditEntry
from audit.trail import record_event
from audit.verify import verify_chain


@pytest.fixture
def chain(db):
    return [record_event(action="test.entry", new={"n": n}) for n in range(5)]


def test_it_reports_an_intact_chain_and_exits_zero(chain, capsys):
    call_command("audit_verify")
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "chain intact (5 entries)"


def test_the_check_itself_is_recorded_and_keeps_the_chain_intact(chain, capsys):
    call_command("audit_verify")
    recorded = AuditEntry.objects.get(action="audit.verify")
    assert recorded.new_values["message"] == "chain intact (5 entries)"
    assert recorded.channel == "command"
    call_command("audit_verify")
    assert "chain intact (6 entries)" in capsys.readouterr().out.splitlines()


def test_an_empty_trail_is_intact(db):
    assert verify_chain().message == "chain intact (0 entries)"


def test_it_finds_an_entry_inserted_with_a_wrong_hash(chain, forge_entry):
    forged = forge_entry(entry_hash="f" * 64)
    record_event(action="test.after")
    report = verify_chain()
    assert not report.intact
    assert report.broken_seq == forged.seq
    assert "altered" in report.problem
    with pytest.raises(CommandError, match=f"chain broken at entry #{forged.seq}"):
        call_command("audit_verify")


def test_it_finds_an_entry_altered_behind_the_triggers_back(chain, behind_the_triggers):
    with behind_the_triggers() as connection, connection.cursor() as cursor:
        cursor.execute(
            "UPDATE audit_auditentry SET reason = 'looks innocent' WHERE seq = %s", [3]
        )
    report = verify_chain()
    assert (report.intact, report.broken_seq) == (False, 3)
    assert report.message == (
        "chain broken at entry #3: content does not match its hash (altered, or rehashed "
        "without the audit key)")


def test_it_finds_an_entry_whose_hash_was_recomputed_after_an_edit(chain, behind_the_triggers):
    from audit.chain import entry_hash

    victim = AuditEntry.objects.get(seq=2)
    fields = {f: getattr(victim, f) for f in ("seq", "at", "actor_id", "actor_username",
              "actor_printed_name", "action", "object_type", "object_id", "old_values",
              "new_values", "client_address", "channel", "versions", "prev_hash")}
    fields["reason"] = "rewritten by someone who knows the hash"
    with behind_the_triggers() as connection, connection.cursor() as cursor:
        cursor.execute(
            "UPDATE audit_auditentry SET reason = %s, entry_hash = %s WHERE seq = 2",
            [fields["reason"], entry_hash(fields)],
        )
    report = verify_chain()
    assert report.broken_seq == 3
    assert "does not link" in report.problem


def test_it_finds_a_removed_entry(chain, behind_the_triggers):
    with behind_the_triggers() as connection, connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditentry WHERE seq = 4")
    report = verify_chain()
    assert report.broken_seq == 4
    assert "missing" in report.problem


def test_it_finds_a_cut_off_tail(chain, behind_the_triggers):
    with behind_the_triggers() as connection, connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditentry WHERE seq >= 4")
    report = verify_chain()
    assert report.broken_seq == 4
    assert report.problem == "entries #4..#5 missing"


def test_it_finds_an_entry_slipped_in_beyond_the_head(chain):
    forged = AuditEntry.objects.create(
        **{**{f.attname: getattr(chain[-1], f.attname) for f in AuditEntry._meta.concrete_fields
              if f.attname != "id"}, "seq": 6, "entry_hash": "e" * 64}
    )
    report = verify_chain()
    assert report.broken_seq == forged.seq
    assert "beyond the chain head" in report.problem
