"""QA data built directly: a series row (no pixels), prompt versions with a chosen sampling
rate, AI results with small known masks, decided through the real confirmation actions."""
import itertools
from datetime import datetime

import numpy as np
import pytest

from annotations import masks
from annotations.confirmation import do_confirm_result, do_reject_result, do_save_edit
from annotations.models import Job, MaskVersion, Result
from tests.conftest import PASSWORD

SHAPE = (2, 10, 10)
VOXEL_ML = 0.5  # every voxel is half a millilitre
_counter = itertools.count(1)


def box_mask(rows: slice, cols: slice, slices=slice(0, 2)) -> np.ndarray:
    mask = np.zeros(SHAPE, np.uint8)
    mask[slices, rows, cols] = 1
    return mask


AI_MASK = box_mask(slice(2, 6), slice(2, 6))  # 32 voxels, 16 mL


@pytest.fixture
def series(sites):
    from imaging.models import Patient, Series, Study

    patient = Patient.objects.create(site=sites["home"], patient_id="QA-1")
    study = Study.objects.create(patient=patient, study_instance_uid="1.2.826.0.1.3680043.99.1")
    return Series.objects.create(study=study, series_instance_uid="1.2.826.0.1.3680043.99.1.1",
                                 modality="CT")


@pytest.fixture
def make_version(sites):
    """A prompt version of the home site with the given QA sampling rate."""
    from prompts.models import PromptEntry, PromptVersion

    def make(key: str = "liver-ct", rate: float = 0.0, number: int = 1) -> PromptVersion:
        entry, _ = PromptEntry.objects.get_or_create(
            site=sites["home"], key=key, defaults={"modality": "CT", "name": key})
        return PromptVersion.objects.create(
            entry=entry, number=number, state="approved", origin="file",
            content={"key": key, "qa": {"sampling_rate": rate,
                                        "agreement": {"samples": 0, "min_dice": 0.8}}},
            content_sha256=f"{number:064x}",
        )

    return make


@pytest.fixture
def make_result(series, users):
    """An AI draft with ``AI_MASK`` (or ``mask``) as version 1, run by ``users[by]``."""

    def make(version, by: str = "annotator", mask=AI_MASK, flags=(), engine="litemedsam"):
        from imaging.models import Series

        n = next(_counter)
        # Each result on its own series of the study: one series and structure has at most
        # one confirmed result (annotations, issue 20).
        on = Series.objects.create(study=series.study, modality="CT",
                                   series_instance_uid=f"{series.series_instance_uid}.{n}")
        job = Job.objects.create(
            series=on, prompt_version=version, structure_key=version.entry.key,
            engine=engine, queue="cpu", geometry={"prompts": []}, input_key=f"qa-{n}",
            status="succeeded", created_by=users[by])
        result = Result.objects.create(
            job=job, series=on, prompt_version=version, structure_key=version.entry.key,
            provenance={"engine": engine, "engine_version": "1.0", "weights_sha256": "ab" * 32,
                        "code_version": "test"},
            flags=list(flags))
        count = int(mask.sum())
        MaskVersion.objects.create(
            result=result, number=1, data=masks.encode(mask), sha256=masks.content_sha256(mask),
            shape=list(SHAPE), voxel_count=count, volume_ml=count * VOXEL_ML, note="AI original")
        return result

    return make


@pytest.fixture
def decide(users):
    """Confirm (optionally after an edit to ``edit``) or reject a result as ``users[by]``."""

    def run(result, by: str = "annotator", edit=None, reject: bool = False):
        user = users[by]
        version = 1
        if edit is not None:
            version = do_save_edit(user, result, 1, edit, "corrected the edge").number
        if reject:
            return do_reject_result(user, result, version, PASSWORD, "wrong organ")
        return do_confirm_result(user, result, version, PASSWORD)

    return run


def set_times(result, created, decided=None) -> None:
    """Move a result's creation (and decision) time, for period and timing figures."""
    fields = {"created_at": created}
    if decided is not None:
        fields["decided_at"] = decided
    Result.objects.filter(pk=result.pk).update(**fields)


def at(day: str, hour: int = 12, minute: int = 0, second: int = 0) -> datetime:
    return datetime.fromisoformat(f"{day}T{hour:02d}:{minute:02d}:{second:02d}+00:00")
