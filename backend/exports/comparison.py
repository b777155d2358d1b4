"""Using reference masks: QA compares a result with the reference of its series and structure,
and the robustness score takes a reference as the truth of a reference case."""
from __future__ import annotations

import numpy as np

from annotations import masks
from annotations.models import Result
from imaging.volumes import load_series_volume
from prompts.robustness import ReferenceCase

from .models import ReferenceMask


def reference_for(series, structure_key: str) -> ReferenceMask | None:
    return ReferenceMask.objects.filter(series=series, structure_key=structure_key).first()


def reference_voxels(reference: ReferenceMask) -> np.ndarray:
    return masks.decode(reference.data, tuple(reference.shape))


def compare_result(result: Result, version_number: int | None = None) -> dict | None:
    """Dice of one mask version of the result (by default the decided, else the latest one)
    against the reference of its series and structure; None when there is no reference or the
    series changed shape since. An unknown ``version_number`` raises ``LookupError``."""
    reference = reference_for(result.series, result.structure_key)
    if reference is None:
        return None
    if version_number is None:
        version = result.final_version or result.latest_mask()
    else:
        version = result.mask_versions.filter(number=version_number).first()
        if version is None:
            raise LookupError(f"Result {result.pk} has no mask version {version_number}.")
    if list(version.shape) != list(reference.shape):
        return None
    mask = masks.decode(version.data, tuple(version.shape))
    return {
        "reference": reference.pk,
        "result": result.pk,
        "mask_version": version.number,
        "dice": round(masks.dice(mask, reference_voxels(reference)), 4),
        "result_voxels": version.voxel_count,
        "reference_voxels": reference.voxel_count,
        "reference_source": reference.get_source_display(),
        "reference_seg": reference.seg_sop_instance_uid,
    }


def robustness_case(reference: ReferenceMask, *, actor=None) -> ReferenceCase:
    """A reference case for ``prompts.robustness``: the series volume, the key slice where the
    reference is largest, the box around it there (as an expert places it by the template),
    and the reference mask as the truth."""
    truth = reference_voxels(reference)
    if not truth.any():
        raise ValueError("The reference mask is empty; it cannot place a prompt.")
    volume = load_series_volume(reference.series, actor=actor)
    key = int(np.argmax(truth.reshape(truth.shape[0], -1).sum(axis=1)))
    rows, cols = np.nonzero(truth[key])
    box = (float(cols.min()), float(rows.min()), float(cols.max()), float(rows.max()))
    col_mm, row_mm, slice_mm = volume.spacing
    return ReferenceCase(
        name=f"series-{reference.series_id}-{reference.structure_key}",
        image=volume.voxels,
        spacing_zyx=(slice_mm, row_mm, col_mm),
        slice_index=key,
        box=box,
        truth=truth,
    )
