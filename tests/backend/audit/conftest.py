import pytest

from audit.chain import GENESIS_HASH, entry_hash
from audit.models import AuditChainHead, AuditEntry


@pytest.fixture
def forge_entry(db):
    return _forge_entry


def _forge_entry(**overrides) -> AuditEntry:
    """Append an entry the way a forger writing rows directly would: correct links and
    head unless ``overrides`` say otherwise."""
    head = AuditChainHead.objects.filter(id=1).first()
    seq, prev = (head.last_seq, head.last_hash) if head else (0, GENESIS_HASH)
    from django.utils import timezone

    fields = {
        "seq": seq + 1, "at": timezone.now(), "actor_id": None, "actor_username": "",
        "actor_printed_name": "", "action": "forged.entry", "object_type": "", "object_id": "",
        "old_values": {}, "new_values": {}, "reason": "", "client_address": None,
        "channel": "", "versions": {}, "prev_hash": prev,
    }
    fields["entry_hash"] = entry_hash(fields)
    fields.update(overrides)
    entry = AuditEntry.objects.create(**fields)
    AuditChainHead.objects.update_or_create(
        id=1, defaults={"last_seq": entry.seq, "last_hash": entry.entry_hash}
    )
    return entry
