"""What a prompt-library entry asks of the engine, without Django: the propagation options
it implies, and the standard prompt its interaction template describes, derived from a
reference mask the way a clinician following the entry would place it.

Used by the job runner (options) and by ``bench/propagation_accuracy.py`` (options, the
standard prompt with the entry's placement tolerance as seeded jitter, and simulated
corrective prompts).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from scipy import ndimage

from model.engines.base import Box, SegmentOptions, SlicePrompt
from model.postprocess import bounding_box


def segment_options(content: Mapping[str, Any], slice_mm: float,
                    extent: tuple[int, int] | None = None) -> SegmentOptions:
    """The engine's options from the entry: 2D entries stay on the prompted slice; a 3D
    entry's ``max_extent_mm`` bounds how far propagation runs from the key slice; `extent`,
    the structure's first and last slice as the user marked them (``extent: required``),
    bounds it too."""
    post = content.get("postprocessing", {})
    max_extent = content.get("propagation", {}).get("max_extent_mm")
    if content.get("dimensions", 3) == 2:
        max_distance = 0
    elif max_extent:
        max_distance = max(1, int(max_extent / slice_mm))
    else:
        max_distance = None
    return SegmentOptions(
        max_distance=max_distance,
        extent=None if extent is None or max_distance == 0 else (int(extent[0]), int(extent[1])),
        largest_component=post.get("largest_component", False),
        fill_holes=post.get("fill_holes", False),
    )


def window_tuple(content: Mapping[str, Any]) -> tuple[float, float] | None:
    """The entry's display and model window as (level, width), None when it has none."""
    window = content.get("image", {}).get("window")
    return (float(window["level"]), float(window["width"])) if window else None


def key_slice(reference: np.ndarray) -> int:
    """The slice of largest cross-section of a (slices, rows, cols) mask."""
    areas = reference.reshape(reference.shape[0], -1).sum(axis=1)
    if not areas.any():
        raise ValueError("the reference mask is empty")
    return int(areas.argmax())


def reference_box(plane: np.ndarray) -> Box:
    """The tight box (x0, y0, x1, y1) of a non-empty 2D mask, at least one pixel wide and
    high (a structure one pixel across still gets a box the engine accepts)."""
    box = bounding_box(plane)
    if box is None:
        raise ValueError("the reference slice is empty")
    x0, y0, x1, y1 = (float(v) for v in box)
    return (x0, y0, max(x1, x0 + 1.0), max(y1, y0 + 1.0))


def jittered(box: Box, tolerance_mm: float, spacing_yx: tuple[float, float],
             shape: tuple[int, int], rng: np.random.Generator) -> Box:
    """``box`` with each edge moved independently by up to ``tolerance_mm`` (uniform), as a
    hand-drawn box within the entry's tolerance would be; kept inside the image and at
    least one pixel wide."""
    row_mm, col_mm = spacing_yx
    dx, dy = tolerance_mm / col_mm, tolerance_mm / row_mm
    x0, y0, x1, y1 = box
    x0 += rng.uniform(-dx, dx)
    x1 += rng.uniform(-dx, dx)
    y0 += rng.uniform(-dy, dy)
    y1 += rng.uniform(-dy, dy)
    rows, cols = shape
    x0, x1 = sorted((float(np.clip(x0, 0, cols - 1)), float(np.clip(x1, 0, cols - 1))))
    y0, y1 = sorted((float(np.clip(y0, 0, rows - 1)), float(np.clip(y1, 0, rows - 1))))
    return (x0, y0, max(x1, x0 + 1.0), max(y1, y0 + 1.0))


#: Slice rules that name several slices; how many each names.
MULTI_SLICE_RULES = {"largest_and_quarters": 3}
#: At most this many boxes on one slice under ``boxes_per_part``, largest parts first.
PARTS_PER_SLICE = 3


def rule_slices(rule: str, reference: np.ndarray) -> list[int]:
    """The slices a slice rule names on a reference mask, ascending and distinct.

    ``largest_cross_section``: the slice of largest cross-section. ``largest_and_quarters``:
    that slice, and the slices a quarter of the structure's extent in from its upper and lower
    ends (moved outwards where they would coincide with it, staying on the structure)."""
    key = key_slice(reference)
    if rule not in MULTI_SLICE_RULES:
        return [key]
    present = np.flatnonzero(reference.reshape(len(reference), -1).any(axis=1))
    low, high = int(present[0]), int(present[-1])
    quarter = (high - low) / 4
    lower, upper = int(round(low + quarter)), int(round(high - quarter))
    if lower == key:
        lower = max(low, key - 1)
    if upper == key or upper == lower:
        upper = min(high, max(key, lower) + 1)
    chosen = sorted({lower, key, upper})
    return [i for i in chosen if reference[i].any()]


def part_boxes(plane: np.ndarray, min_pixels: int = 3) -> list[Box]:
    """One box per separate part of a 2D mask (parts of at least `min_pixels`, the largest
    ``PARTS_PER_SLICE``), as the ``boxes_per_part`` protocols ask; the whole mask's box when no
    part is that big."""
    labels, count = ndimage.label(plane)
    sizes = np.bincount(labels.ravel())[1:]
    order = [int(i) + 1 for i in np.argsort(sizes)[::-1][:PARTS_PER_SLICE]
             if sizes[i] >= min_pixels]
    return [reference_box(labels == i) for i in order] or [reference_box(plane)]


def standard_prompts(content: Mapping[str, Any], reference: np.ndarray) -> list[SlicePrompt]:
    """The prompt the entry asks for, placed exactly on the reference: a tight box on each
    slice its slice rule names (see ``rule_slices``), or with ``boxes_per_part`` one box per
    separate part of the structure on each of them."""
    interaction = content.get("interaction", {})
    if interaction.get("tool", "box") != "box":
        raise ValueError(f"unsupported interaction tool {interaction.get('tool')!r}")
    prompts: list[SlicePrompt] = []
    for index in rule_slices(interaction.get("slice", "largest_cross_section"), reference):
        boxes = (part_boxes(reference[index]) if interaction.get("boxes_per_part")
                 else [reference_box(reference[index])])
        prompts += [(index, box) for box in boxes]
    return prompts[:int(interaction.get("count", len(prompts)))]


def asks_extent(content: Mapping[str, Any]) -> bool:
    """Whether the entry's template asks for the structure's first and last slice
    (``interaction.extent: required``, the "3D box" of a box plus the two end slices)."""
    return content.get("interaction", {}).get("extent") == "required"


def extent_tolerance_mm(content: Mapping[str, Any]) -> float:
    """How far (mm) a marked end slice may lie from the structure's true end."""
    return float(content.get("interaction", {}).get("extent_tolerance_mm", 0.0) or 0.0)


def reference_extent(reference: np.ndarray) -> tuple[int, int]:
    """The first and last slice a (slices, rows, cols) mask covers."""
    present = np.flatnonzero(reference.reshape(len(reference), -1).any(axis=1))
    if not present.size:
        raise ValueError("the reference mask is empty")
    return int(present[0]), int(present[-1])


def standard_extent(content: Mapping[str, Any], reference: np.ndarray) -> tuple[int, int] | None:
    """The end slices the entry asks for, placed exactly on the reference (its first and last
    slice), or None when the template does not ask for them. Together with
    ``standard_prompts`` this is the whole standard prompt."""
    return reference_extent(reference) if asks_extent(content) else None


def jittered_extent(extent: tuple[int, int], tolerance_mm: float, slice_mm: float,
                    num_slices: int, keys: Sequence[int], rng: np.random.Generator
                    ) -> tuple[int, int]:
    """`extent` with each end moved independently by up to `tolerance_mm` (uniform, rounded to
    a slice), as a clinician scrolling for the structure's ends within the entry's tolerance
    would mark them; kept inside the volume and around the prompted `keys` (the viewer and
    the API refuse an end that is not)."""
    reach = tolerance_mm / slice_mm
    first = int(round(extent[0] + rng.uniform(-reach, reach)))
    last = int(round(extent[1] + rng.uniform(-reach, reach)))
    low, high = (min(keys), max(keys)) if keys else (first, last)
    first = int(np.clip(first, 0, low))
    last = int(np.clip(last, high, num_slices - 1))
    return first, last


def worst_slice(predicted: np.ndarray, reference: np.ndarray,
                exclude: set[int] = frozenset()) -> int | None:
    """The slice where the reference is present and the prediction is most wrong (voxels in
    one but not the other), as a clinician scrolling the draft would pick it to correct."""
    errors = (predicted.astype(bool) ^ reference.astype(bool)).reshape(len(reference), -1).sum(1)
    present = reference.reshape(len(reference), -1).any(axis=1)
    candidates = [i for i in np.flatnonzero(present) if int(i) not in exclude and errors[i] > 0]
    if not candidates:
        return None
    return int(max(candidates, key=lambda i: errors[i]))


def corrective_prompt(content: Mapping[str, Any], predicted: np.ndarray, reference: np.ndarray,
                      exclude: set[int] = frozenset()) -> tuple[int, list[Box]] | None:
    """The correction a clinician following the entry would make next, simulated from the
    reference: on the slice where the draft is most wrong (``worst_slice``), the reference's
    box, or with ``boxes_per_part`` one box per separate part. None when nothing is left."""
    index = worst_slice(predicted, reference, exclude)
    if index is None:
        return None
    boxes = (part_boxes(reference[index]) if content.get("interaction", {}).get("boxes_per_part")
             else [reference_box(reference[index])])
    return index, boxes
