from django.core.management.base import BaseCommand

from audit.anchors import anchor_path, write_anchor
from audit.models import AuditChainHead


class Command(BaseCommand):
    help = (
        "Append the audit chain's head (entry count and hash, signed with the audit key) to "
        "the anchor file outside the database. Run it from cron between the automatic anchors "
        "(every settings.AUDIT_ANCHOR_EVERY entries), so a cut-off tail is found by audit_verify."
    )

    def handle(self, *args, **options):
        head = AuditChainHead.objects.filter(id=1).first()
        if head is None or head.last_seq == 0:
            self.stdout.write("The audit trail is empty; nothing to anchor.")
            return
        write_anchor(head.last_seq, head.last_hash)
        self.stdout.write(f"anchored entry #{head.last_seq} ({head.last_hash}) in {anchor_path()}")
