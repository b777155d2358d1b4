"""Trails written before the chain was keyed (plain sha256, tests/backend/audit/fixtures) still
verify once migration 0004 has sealed them with a keyed entry, and their entries stay
tamper-evident."""
import importlib
import json
from pathlib import Path

import pytest
from django.apps import apps
from django.utils.dateparse import parse_datetime

from audit.anchors import read_anchors
from audit.models import AuditChainHead, AuditEntry
from audit.trail import record_event
from audit.verify import verify_chain

FIXTURE = Path(__file__).parent / "fixtures" / "unkeyed_chain.json"
seal = importlib.import_module("audit.migrations.0004_keyed_chain").seal_unkeyed_entries


@pytest.fixture
def unkeyed_trail(db):
    """The fixture's entries as the old code left them in the database, head included."""
    entries = json.loads(FIXTURE.read_text())["entries"]
    for row in entries:
        AuditEntry.objects.create(**{**row, "at": parse_datetime(row["at"])})
    AuditChainHead.objects.create(id=1, last_seq=entries[-1]["seq"],
                                  last_hash=entries[-1]["entry_hash"])
    return entries


def test_an_unkeyed_trail_alone_does_not_pass_for_intact(unkeyed_trail):
    """Anybody can compute plain sha256: nothing keyed vouches for these entries yet."""
    report = verify_chain()
    assert (report.intact, report.broken_seq) == (False, 1)
    assert "unkeyed hashes that no keyed entry vouches for" in report.problem


def test_the_sealed_unkeyed_trail_verifies_and_new_entries_are_keyed(unkeyed_trail,
                                                                    audit_anchor_file):
    seal(apps, None)
    marker = AuditEntry.objects.get(seq=len(unkeyed_trail) + 1)
    assert marker.action == "audit.chain_keyed"
    assert marker.new_values == {"legacy_through": len(unkeyed_trail)}
    assert [a.count for a in read_anchors()] == [marker.seq]
    record_event(action="test.after_keying")
    report = verify_chain()
    assert report.intact, report.message
    assert report.count == len(unkeyed_trail) + 2


def test_a_sealed_unkeyed_entry_edited_later_is_found(unkeyed_trail, behind_the_triggers):
    seal(apps, None)
    with behind_the_triggers() as conn, conn.cursor() as cursor:
        cursor.execute("UPDATE audit_auditentry SET reason = 'not checked' WHERE seq = 4")
    assert verify_chain().broken_seq == 4


def test_unkeyed_entries_after_the_seal_are_refused(unkeyed_trail, behind_the_triggers):
    """A forger who appends plain sha256 entries after the keyed marker is found at once."""
    from audit.chain import legacy_entry_hash
    from tests.backend.audit.conftest import _forge_entry

    seal(apps, None)
    head = AuditChainHead.objects.get(id=1)
    fields = {"seq": head.last_seq + 1, "at": parse_datetime("2026-12-01T00:00:00Z"),
              "actor_id": None, "actor_username": "", "actor_printed_name": "",
              "action": "forged.entry", "object_type": "", "object_id": "", "old_values": {},
              "new_values": {}, "reason": "", "client_address": None, "channel": "",
              "versions": {}, "prev_hash": head.last_hash}
    forged = _forge_entry(entry_hash=legacy_entry_hash(fields), at=fields["at"])
    report = verify_chain()
    assert report.broken_seq == forged.seq
    assert "altered" in report.problem
