from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from ops.backup import archive
from ops.backup.database import BackupError


class Command(BaseCommand):
    help = (
        "Back up the database and media into one archive (pg_dump or SQLite's backup API, "
        "plus every media file), with a manifest of checksums and the audit trail's head."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--output", type=Path,
            help="archive to write (default: medsam-backup-<UTC time>.tar here)",
        )

    def handle(self, *args, output, **options):
        output = output or Path(f"medsam-backup-{timezone.now():%Y%m%dT%H%M%SZ}.tar")
        if output.exists():
            raise CommandError(f"{output} exists; name another file.")
        partial = output.with_name(output.name + ".partial")
        try:
            manifest = archive.create(partial)
        except BackupError as problem:
            partial.unlink(missing_ok=True)
            raise CommandError(str(problem)) from None
        partial.rename(output)
        self.stdout.write(
            f"backup {output}: {manifest['database']['vendor']} database, "
            f"{len(manifest['media'])} media files, {manifest['audit']['entries']} audit entries "
            f"(head {manifest['audit']['head_hash'][:16]})"
        )
