"""A real head CT (Debian's invesalius-examples) ingested as a series, and the shipped prompt
library loaded as the home site's approved versions."""
import io

import numpy as np
import pytest

from tests.model.head_ct import box_of, brain_mask, load_head_ct, require_cranium

FIRST_SLICE = 60


@pytest.fixture(scope="session")
def head_ct():
    return load_head_ct(require_cranium())


@pytest.fixture
def library(sites):
    from prompts.actions.exchange import do_load_library
    from prompts.models import PromptVersion, VersionState
    from prompts.source import read_library

    entries, problems = read_library()
    assert not problems, problems
    do_load_library(sites["home"], entries)
    versions = PromptVersion.objects.filter(
        state=VersionState.APPROVED, entry__site=sites["home"]
    ).select_related("entry")
    return {v.entry.key: v for v in versions}


def ct_files(hu: np.ndarray, spacing_zyx, patient: str) -> list[tuple[str, bytes]]:
    """(slices, rows, cols) HU as CT DICOM files with that geometry."""
    from model.imaging import Volume
    from model.imaging.dicom_export import volume_to_datasets
    from model.imaging.dicom_file import to_part10_bytes

    z, y, x = spacing_zyx
    volume = Volume(hu.astype(np.float32), np.diag([x, y, z, 1.0]), "CT")
    files = []
    for index, dataset in enumerate(volume_to_datasets(volume, patient_id=patient, modality="CT")):
        files.append((f"{patient}-{index:03d}.dcm", to_part10_bytes(dataset)))
    return files


def ingest_files(files: list[tuple[str, bytes]], site, actor) -> None:
    """Ingest (name, bytes) files at ``site``; every one must be imported."""
    from imaging.actions import do_ingest

    report = do_ingest([(name, io.BytesIO(data), len(data)) for name, data in files],
                       site=site, actor=actor)
    statuses = {line["status"] for line in report.as_dict()["files"]}
    assert statuses == {"imported"}, report.as_dict()


@pytest.fixture
def make_head_series(head_ct, users, sites):
    """Ingest ``count`` slices of the head CT (from slice 60) as a CT series of the home site;
    returns (series, box of the brain on the middle slice, index of that slice)."""
    from imaging.models import Series

    def make(count: int, patient: str = "HEAD-1"):
        hu = head_ct.hu[FIRST_SLICE:FIRST_SLICE + count]
        ingest_files(ct_files(hu, head_ct.spacing_zyx, patient), sites["home"],
                     users["annotator"])
        series = Series.objects.filter(study__patient__patient_id=patient).latest("id")
        key = count // 2
        return series, [float(v) for v in box_of(brain_mask(hu[key]))], key

    return make


@pytest.fixture
def ai_result(make_head_series, library, users):
    """A stored AI draft on a real 3-slice series, made by the worker-side actions directly
    (claim, then store) with a known mask, without running the engine."""
    from django.db import transaction

    from annotations.actions import do_submit_job

    series, box, key = make_head_series(3)
    # One transaction: the job's message goes out only after it has succeeded here, so a
    # worker running in the same test session skips it instead of racing this fixture.
    with transaction.atomic():
        job, _ = do_submit_job(users["annotator"], series, library["liver-ct"],
                               {"prompts": [{"slice": key, "box": box}]})
        return store_draft(job, 3, scores={0: 0.9, 1: 0.95, 2: 0.9})


TEST_PROVENANCE = {"engine": "litemedsam", "weights_sha256": "ab" * 32, "code_version": "test"}


def store_draft(job, slices: int, rows=slice(100, 140), cols=slice(90, 150), scores=None,
                made_on=None):
    """Claim a submitted ``job`` as a test worker and store a box-shaped mask (``rows`` x
    ``cols`` on every one of ``slices`` slices) as its AI draft, through the worker-side
    actions, without running the engine. Call it inside the submitting transaction."""
    from annotations import masks
    from annotations.actions import do_claim_job
    from annotations.execution import save_result

    job = do_claim_job(job.pk, "test-worker@localhost")
    mask = np.zeros((slices, 256, 256), np.uint8)
    mask[:, rows, cols] = 1
    return save_result(job, mask, masks.stats(mask, (1.5, 0.957, 0.957)), scores or {1: 0.9},
                       None, [], TEST_PROVENANCE, made_on=made_on)
