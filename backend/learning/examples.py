"""A training set's members as 2D training examples: slices of the confirmed masks, with
the image normalised as the structure's prompt library entry says (its window)."""
import numpy as np

from annotations import masks
from model.protocol import window_tuple

from .models import Side, TrainingSet


def mask_slices(mask: np.ndarray, limit: int) -> list[int]:
    """Up to ``limit`` slice indices with mask, spread evenly, always including the one with
    the largest cross-section (where the usual template puts the box)."""
    areas = mask.reshape(mask.shape[0], -1).sum(axis=1)
    present = np.flatnonzero(areas)
    if present.size <= limit:
        return [int(i) for i in present]
    spread = np.linspace(0, present.size - 1, max(1, limit - 1)).round().astype(int)
    return sorted({int(present[i]) for i in spread} | {int(areas.argmax())})


def build_examples(training_set: TrainingSet, max_slices_per_result: int,
                   volume_loader) -> tuple[list, list, dict]:
    """(train examples, validation examples, entry content) in member order."""
    from model.preprocess import normalise_intensity
    from model.training.examples import TrainingExample

    sides = {Side.TRAIN: [], Side.VALIDATION: []}
    content = None
    members = training_set.members.select_related("result__series", "mask_version",
                                                  "result__prompt_version")
    for member in members:
        result = member.result
        content = content or result.prompt_version.content
        volume = volume_loader(result.series)
        mask = masks.decode(member.mask_version.data, member.mask_version.shape)
        if mask.shape != volume.voxels.shape:
            continue
        window = window_tuple(result.prompt_version.content)
        modality = result.series.modality or training_set.modality
        spacing_yx = (float(volume.spacing[1]), float(volume.spacing[0]))
        for index in mask_slices(mask, max_slices_per_result):
            sides[member.side].append(TrainingExample(
                image=normalise_intensity(volume.voxels[index], modality, window),
                mask=mask[index].astype(bool),
                spacing_yx=spacing_yx,
                group=member.patient_id,
                source=f"result {result.pk} slice {index}",
            ))
    return sides[Side.TRAIN], sides[Side.VALIDATION], content or {}
