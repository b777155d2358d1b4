"""From here on the chain is keyed (HMAC under the audit key, ``audit.chain``). Entries written
before carry plain sha256 hashes, and cannot be rehashed (the trail is append-only). One keyed
``audit.chain_keyed`` entry, linking to the last of them, vouches for them; the head is then
anchored outside the database."""
from django.db import migrations
from django.utils import timezone

from audit.anchors import write_anchor
from audit.chain import KEYED_MARKER, entry_hash


def seal_unkeyed_entries(apps, schema_editor):
    entry_model = apps.get_model("audit", "AuditEntry")
    head_model = apps.get_model("audit", "AuditChainHead")
    head = head_model.objects.filter(id=1).first()
    if head is None or head.last_seq == 0:
        return
    fields = {
        "seq": head.last_seq + 1, "at": timezone.now(), "actor_id": None, "actor_username": "",
        "actor_printed_name": "", "action": KEYED_MARKER, "object_type": "audit.auditentry",
        "object_id": "", "old_values": {}, "new_values": {"legacy_through": head.last_seq},
        "reason": "entries before this one carry unkeyed sha256 hashes; from here on every "
                  "entry is keyed with the audit key",
        "client_address": None, "channel": "command", "versions": {},
        "prev_hash": head.last_hash,
    }
    fields["entry_hash"] = entry_hash(fields)
    entry_model.objects.create(**fields)
    head_model.objects.filter(id=1).update(last_seq=fields["seq"], last_hash=fields["entry_hash"])
    write_anchor(fields["seq"], fields["entry_hash"])


class Migration(migrations.Migration):
    dependencies = [("audit", "0003_append_only_triggers")]

    operations = [migrations.RunPython(seal_unkeyed_entries, migrations.RunPython.noop)]
