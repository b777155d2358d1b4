"""``manage.py import_images PATH [PATH ...] --site CODE``: import files, folders and zips from
disk; one line per file (imported, duplicate, or rejected with the reason) and a summary.
Exits with status 1 when any file was rejected."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from accounts.models import Site
from audit.context import acting_from
from imaging.actions import VOLUME_MODALITIES, do_ingest
from imaging.outcomes import Status


class Command(BaseCommand):
    help = "Import DICOM, NIfTI, NRRD files, folders and zips from disk."

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", type=Path)
        parser.add_argument("--site", help="site code (default: the only site)")
        parser.add_argument(
            "--allow-mixed-patients",
            action="store_true",
            help="accept several patients in one run (a PACS export)",
        )
        parser.add_argument("--patient-id", default="", help="patient ID for NIfTI/NRRD files")
        parser.add_argument(
            "--modality", default="", choices=["", *VOLUME_MODALITIES],
            help="modality of NIfTI/NRRD files (they carry none; default OT)",
        )

    def handle(self, *args, **options):
        site = self._site(options["site"])
        files = []
        for path in options["paths"]:
            if path.is_dir():
                files.extend(sorted(p for p in path.rglob("*") if p.is_file()))
            elif path.is_file():
                files.append(path)
            else:
                raise CommandError(f"{path}: no such file or folder")
        with acting_from(None, "command"):
            report = do_ingest(
                _opened(files),
                site=site,
                allow_mixed_patients=options["allow_mixed_patients"],
                patient_id=options["patient_id"],
                modality=options["modality"],
            )
        for outcome in report.files:
            line = f"{outcome.status}: {outcome.name}"
            if outcome.status == Status.REJECTED:
                line += f": {outcome.reason} [{outcome.code}]"
            self.stdout.write(line)
        self.stdout.write(report.summary())
        for series in report.series.values():
            if series["problem"]:
                self.stdout.write(f"series {series['id']}: {series['problem']}")
        if report.count(Status.REJECTED):
            raise SystemExit(1)

    def _site(self, code: str | None) -> Site:
        sites = Site.objects.all()
        if code:
            sites = sites.filter(code=code)
        if sites.count() != 1:
            raise CommandError("name the site with --site CODE")
        return sites.get()


def _opened(files: list[Path]):
    """Each file open only while the ingest reads it."""
    for path in files:
        with open(path, "rb") as stream:
            yield str(path), stream, path.stat().st_size
