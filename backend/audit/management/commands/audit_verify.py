from django.core.management.base import BaseCommand, CommandError

from audit.auditor import run_verification
from audit.context import acting_from


class Command(BaseCommand):
    help = (
        "Walk the audit trail's hash chain. Prints `chain intact (N entries)` and exits 0, or "
        "names the first broken link and exits 1. The check itself is recorded in the trail."
    )

    def handle(self, *args, **options):
        with acting_from(None, "command"):
            report = run_verification()
        if report.intact:
            self.stdout.write(report.message)
            self.stdout.write(f"head hash {report.head_hash}")
            return
        raise CommandError(report.message, returncode=1)
