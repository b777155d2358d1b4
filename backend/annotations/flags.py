"""Reasons a result deserves a closer look, from its prompt entry: plausibility ranges,
a prompt off the template's slice, and low agreement under prompt perturbation."""
import numpy as np

from model.protocol import window_tuple

from .masks import MaskStats


def _range_flag(code: str, label: str, value: float, spec: dict | None, unit: str) -> list[dict]:
    if not spec:
        return []
    low, high = spec.get("min"), spec.get("max")
    if (low is not None and value < low) or (high is not None and value > high):
        return [{
            "code": code,
            "value": round(value, 2),
            "message": f"{label} {value:.1f} {unit} is outside the plausible range "
            f"{low if low is not None else '-'} to {high if high is not None else '-'} {unit}.",
        }]
    return []


def plausibility_flags(content: dict, stats: MaskStats, mask: np.ndarray, spacing_zyx) -> list:
    ranges = content.get("plausibility", {})
    if stats.voxel_count == 0:
        return [{"code": "empty", "message": "The model found nothing at the prompt."}]
    flags = []
    if content.get("dimensions", 3) == 3:
        flags += _range_flag("volume_out_of_range", "Volume", stats.volume_ml,
                             ranges.get("volume_ml"), "mL")
        flags += _range_flag("extent_out_of_range", "Cranio-caudal extent", stats.extent_mm,
                             ranges.get("craniocaudal_extent_mm"), "mm")
    else:
        area = float(mask.sum(axis=(1, 2)).max()) * spacing_zyx[1] * spacing_zyx[2]
        flags += _range_flag("area_out_of_range", "Area", area, ranges.get("area_mm2"), "mm²")
        fraction = float(mask.sum(axis=(1, 2)).max()) / (mask.shape[1] * mask.shape[2])
        flags += _range_flag("area_fraction_out_of_range", "Area fraction", fraction,
                             ranges.get("area_fraction"), "")
    return flags


def prompt_slice_flag(content: dict, mask: np.ndarray, prompts, spacing_zyx) -> list:
    """The template says which slice carries the prompt (e.g. the largest cross-section) and
    how far off it may be; when no prompted slice is that close, the result is flagged."""
    interaction = content.get("interaction", {})
    if interaction.get("slice") not in ("largest_cross_section", "largest_and_quarters") \
            or mask.shape[0] < 2:
        return []
    tolerance = float(interaction.get("slice_tolerance_mm", 0) or 0)
    areas = mask.sum(axis=(1, 2))
    if not areas.any():
        return []
    largest = int(np.argmax(areas))
    key = min((index for index, _ in prompts), key=lambda index: abs(index - largest))
    distance = abs(key - largest) * spacing_zyx[0]
    if distance <= tolerance:
        return []
    return [{
        "code": "prompt_off_template",
        "message": f"The box was on slice {key}, {distance:.0f} mm from the largest cross-"
        f"section (slice {largest}); the protocol allows {tolerance:g} mm.",
    }]


def agreement_on_key_slice(engine, voxels, content: dict, prompts, mask, spacing_zyx):
    """Mean Dice, on the prompted slice where the result is largest, between the result and
    re-runs with every box on that slice perturbed within the template's tolerance. Only that
    slice is re-run: its embedding is cached, so each re-run costs a decoder pass per box
    instead of a whole propagation."""
    from model.preprocess import unit_slices
    from prompts.robustness import Tolerance, result_agreement

    spec = content.get("qa", {}).get("agreement", {})
    samples = int(spec.get("samples", 0))
    if samples < 1:
        return None
    key = max(sorted({index for index, _ in prompts}), key=lambda index: int(mask[index].sum()))
    boxes = [box for index, box in prompts if index == key]
    # Normalised exactly as the engine did, so the key slice's embedding comes from the
    # engine's cache.
    image = unit_slices(voxels, [key], content.get("modality", "CT"), window_tuple(content))[key]
    embedding = engine.embed_slice(image)

    def segment(perturbed_boxes):
        return np.logical_or.reduce([engine.predict_2d(embedding, box=tuple(box)).mask
                                     for box in perturbed_boxes])

    return result_agreement(
        segment,
        boxes,
        mask[key].astype(bool),
        Tolerance.from_entry(content),
        (spacing_zyx[1], spacing_zyx[2]),
        mask.shape[1:],
        samples=samples,
        min_dice=float(spec.get("min_dice", 0.0)),
    )
