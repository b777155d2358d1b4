from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from ops.backup import archive
from ops.backup.database import BackupError


class Command(BaseCommand):
    help = (
        "Restore a `manage.py backup` archive into the configured database, which must be "
        "empty, and media storage. Checks every checksum first; then run `audit_verify`."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path, metavar="ARCHIVE")

    def handle(self, *args, path: Path, **options):
        if not path.is_file():
            raise CommandError(f"{path} does not exist.")
        try:
            manifest = archive.restore(path)
        except BackupError as problem:
            raise CommandError(str(problem)) from None
        self.stdout.write(
            f"restored {path}: {len(manifest['media'])} media files, "
            f"{manifest['audit']['entries']} audit entries, head "
            f"{manifest['audit']['head_hash'][:16]} as in the backup. "
            "Run `manage.py audit_verify` to walk the chain."
        )
