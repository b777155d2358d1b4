"""``manage.py reference_cases KEY --site CODE --output DIR``: the reference masks of one
structure as robustness cases, one .npz per series, in the form
``manage.py prompt_library robustness KEY --case FILE`` reads (image, spacing_zyx,
slice_index, box, truth)."""
from pathlib import Path

import numpy as np
from django.core.management.base import BaseCommand, CommandError

from exports.comparison import robustness_case
from exports.models import ReferenceMask


class Command(BaseCommand):
    help = "Write the reference masks of a structure as robustness cases (.npz)."

    def add_arguments(self, parser):
        parser.add_argument("key", help="prompt entry key, e.g. kidney-left-ct")
        parser.add_argument("--site", required=True, help="site code")
        parser.add_argument("--output", "-o", type=Path, required=True, help="folder")

    def handle(self, *args, **options):
        references = ReferenceMask.objects.filter(
            structure_key=options["key"], series__study__patient__site__code=options["site"]
        ).order_by("series_id")
        if not references:
            raise CommandError(
                f"No reference masks of {options['key']!r} at {options['site']}; import a SEG "
                "first (/exports/series/<id>/references/)."
            )
        options["output"].mkdir(parents=True, exist_ok=True)
        for reference in references:
            case = robustness_case(reference)
            path = options["output"] / f"{case.name}.npz"
            np.savez_compressed(
                path, image=case.image, spacing_zyx=np.array(case.spacing_zyx),
                slice_index=case.slice_index, box=np.array(case.box), truth=case.truth,
            )
            self.stdout.write(str(path))
