from django.core.management.base import BaseCommand, CommandError

from audit.auditor import run_verification
from audit.context import acting_from


class Command(BaseCommand):
    help = (
        "Walk the audit trail's keyed hash chain, compare it with the anchors outside the "
        "database (settings.AUDIT_ANCHOR_PATH) and check every signature against its record. "
        "Prints `chain intact (N entries)` and exits 0, or names the first fault and exits 1. "
        "The check itself is recorded in the trail, and an intact trail is anchored."
    )

    def handle(self, *args, **options):
        with acting_from(None, "command"):
            report = run_verification()
        if report.intact:
            self.stdout.write(report.message)
            for line in report.details:
                self.stdout.write(line)
            self.stdout.write(f"head hash {report.head_hash}")
            return
        for line in report.details[1:]:
            self.stderr.write(line)
        raise CommandError(report.message, returncode=1)
