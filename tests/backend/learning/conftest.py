"""A skull entry in the home site's library, and confirmed skull masks on slabs of the real
head CT filed as different patients (so the patient-level split has patients to split)."""
import copy
import io

import numpy as np
import pytest

from tests.backend.annotations import conftest as annotations_fixtures
from tests.conftest import PASSWORD
from tests.model.training.skull import skull_mask

# The real head CT and the shipped library, as the annotations tests have them.
head_ct = annotations_fixtures.head_ct
library = annotations_fixtures.library
make_head_series = annotations_fixtures.make_head_series

# (patient, first slice) of each 8-slice slab; the slabs do not overlap.
SLABS = (("SKULL-A", 46), ("SKULL-B", 62), ("SKULL-C", 78))
SLAB_SLICES = 8


@pytest.fixture
def skull_entry(library, users):
    """The skull (CT, bone window, 2 mm box tolerance) approved by two administrators."""
    from prompts.actions.versions import do_approve, do_create_entry, do_submit

    content = copy.deepcopy(library["liver-ct"].content)
    content.update(
        key="skull-ct", name="Skull", synonyms=["skull", "cranium"],
        structure={"category": {"code": "123037004", "scheme": "SCT",
                                "meaning": "Anatomical Structure"},
                   "type": {"code": "89546000", "scheme": "SCT", "meaning": "Skull"},
                   "laterality": None},
        image={"window": {"level": 500, "width": 2000}},
        plausibility={"volume_ml": {"min": 1, "max": 3000}},
    )
    content["interaction"].update(
        placement="One box around the skull on the axial slice with its largest cross-section",
        tolerance={"value": 2, "unit": "mm"})
    version = do_create_entry(users["prompt_admin"], users["prompt_admin"].site, content)
    do_submit(users["prompt_admin"], version)
    return do_approve(users["prompt_admin_member"], version, password=PASSWORD)


def confirmed_skull(head_ct, users, sites, version, patient: str, first: int):
    """Ingest a slab as the patient's CT series; store and confirm a skull mask on it."""
    from django.db import transaction

    from annotations import masks
    from annotations.actions import do_claim_job, do_submit_job
    from annotations.confirmation import do_confirm_result
    from annotations.execution import save_result
    from imaging.actions import do_ingest
    from imaging.models import Series

    hu = head_ct.hu[first:first + SLAB_SLICES]
    files = annotations_fixtures.ct_files(hu, head_ct.spacing_zyx, patient)
    do_ingest([(name, io.BytesIO(data), len(data)) for name, data in files],
              site=sites["home"], actor=users["annotator"])
    series = Series.objects.filter(study__patient__patient_id=patient).latest("id")
    mask = np.stack([skull_mask(s) for s in hu]).astype(np.uint8)
    key = SLAB_SLICES // 2
    rows, cols = np.flatnonzero(mask[key].any(1)), np.flatnonzero(mask[key].any(0))
    box = [float(cols[0]), float(rows[0]), float(cols[-1]), float(rows[-1])]
    # One transaction: the job's message goes out only after it has succeeded here, so a
    # worker running in the same test session skips it instead of racing this fixture.
    with transaction.atomic():
        job, _ = do_submit_job(users["annotator"], series, version,
                               {"prompts": [{"slice": key, "box": box}]})
        job = do_claim_job(job.pk, "test-worker@localhost")
        stats = masks.stats(mask, head_ct.spacing_zyx)
        provenance = {"engine": "litemedsam", "weights_sha256": "ab" * 32,
                      "code_version": "test"}
        result = save_result(job, mask, stats, {key: 0.9}, None, [], provenance)
    return do_confirm_result(users["annotator"], result, 1, PASSWORD)


@pytest.fixture
def skull_results(head_ct, users, sites, skull_entry):
    return [confirmed_skull(head_ct, users, sites, skull_entry, patient, first)
            for patient, first in SLABS]
