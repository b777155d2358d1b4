"""A real head CT (invesalius-examples) stored as an oblique CT series whose slices are stored
in the opposite order to the volume's, so a SEG that confused the two would show it; results
on it confirmed through the real actions."""
import io
import math

import numpy as np
import pytest

from tests.backend.annotations.conftest import head_ct, library  # noqa: F401 (fixtures)
from tests.conftest import PASSWORD

FIRST_SLICE = 62
SLICES = 4


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def oblique_affine(spacing_zyx, angle_deg: float = 12.0) -> np.ndarray:
    """Rows rotated about the patient's z axis; slices stepping towards the feet (-z)."""
    z, y, x = spacing_zyx
    a = math.radians(angle_deg)
    row_cosine = np.array([math.cos(a), math.sin(a), 0.0])
    col_cosine = np.array([-math.sin(a), math.cos(a), 0.0])
    affine = np.eye(4)
    affine[:3, 0] = row_cosine * x
    affine[:3, 1] = col_cosine * y
    affine[:3, 2] = np.cross(row_cosine, col_cosine) * -z
    affine[:3, 3] = (-120.0, -95.5, 40.0)
    return affine


def ct_series_files(hu, affine, patient: str) -> list[tuple[str, bytes]]:
    """CT files with the patient and study attributes a scanner writes."""
    from model.imaging import Volume
    from model.imaging.dicom_export import volume_to_datasets

    volume = Volume(hu.astype(np.float32), affine, "CT")
    files = []
    datasets = volume_to_datasets(volume, patient_id=patient, patient_name="Test^Head",
                                  modality="CT", series_description="Head CT")
    for index, dataset in enumerate(datasets):
        dataset.PatientBirthDate = "19700101"
        dataset.PatientSex = "O"
        dataset.StudyDate = dataset.SeriesDate = "20240105"
        dataset.StudyTime = "101500"
        dataset.StudyID = "1"
        dataset.AccessionNumber = "ACC1"
        dataset.ReferringPhysicianName = "Referrer^Rita"
        stream = io.BytesIO()
        dataset.save_as(stream, enforce_file_format=True)
        files.append((f"{patient}-{index:03d}.dcm", stream.getvalue()))
    return files


@pytest.fixture
def head_series(head_ct, users, sites):  # noqa: F811
    """An oblique 4-slice head CT series of the home site."""
    from imaging.actions import do_ingest
    from imaging.models import Series

    hu = head_ct.hu[FIRST_SLICE:FIRST_SLICE + SLICES]
    files = ct_series_files(hu, oblique_affine(head_ct.spacing_zyx), "HEAD-EXP")
    report = do_ingest([(n, io.BytesIO(d), len(d)) for n, d in files], site=sites["home"],
                       actor=users["annotator"])
    assert {f["status"] for f in report.as_dict()["files"]} == {"imported"}, report.as_dict()
    return Series.objects.get(study__patient__patient_id="HEAD-EXP")


def box_mask(rows: slice, cols: slice, slices: slice = slice(None)) -> np.ndarray:
    mask = np.zeros((SLICES, 256, 256), np.uint8)
    mask[slices, rows, cols] = 1
    return mask


@pytest.fixture
def make_result(library, users):  # noqa: F811
    """A result of ``key`` on ``series`` with the AI mask ``mask``; ``edit`` saves a
    clinician's edit; ``confirm`` signs the latest version as the annotator (``supersedes``: the
    confirmed result of the same series and structure it replaces)."""
    from annotations import masks
    from annotations.actions import do_claim_job, do_submit_job
    from annotations.confirmation import do_confirm_result, do_save_edit
    from annotations.execution import save_result

    made = []

    def make(series, key, mask, *, edit=None, confirm=True, by="annotator", supersedes=None):
        version = library[key]
        # A new box each time: the same inputs would return the earlier job.
        shift = len(made)
        from django.db import transaction

        # Claimed and stored inside the submitting transaction, so a live worker (e2e tests)
        # gets the message only after the job is done and leaves it alone.
        with transaction.atomic():
            job, _ = do_submit_job(users[by], series, version, {
                "prompts": [{"slice": 1, "box": [90 + shift, 100, 150 + shift, 140]}]})
            job = do_claim_job(job.pk, "test-worker@localhost")
            stats = masks.stats(mask, (1.5, 0.957, 0.957))
            provenance = {
                "engine": "litemedsam", "engine_version": "1.2.0", "weights_sha256": "ab" * 32,
                "code_version": "test",
                "prompt_version": {"id": version.pk, "key": key, "number": version.number},
            }
            result = save_result(job, mask, stats, {1: 0.9}, None, [], provenance)
        latest = 1
        if edit is not None:
            latest = do_save_edit(users[by], result, 1, edit, "corrected the edge").number
        if confirm:
            result = do_confirm_result(
                users[by], result, latest, PASSWORD,
                "replaces the earlier reading" if supersedes else "", supersedes=supersedes)
        made.append(result)
        return result

    return make
