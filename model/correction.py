"""Correcting a draft in one action: a box (with positive/negative points, if any) on one
slice of a 3D draft re-segments that slice, then walks outward slice by slice with the same
steps and stop rules as the propagation (``model.propagation.Stepper``). Only the affected
run changes; the rest of the draft stays:

- a walk ends where its new mask agrees with the draft again (Dice >= ``agree``): the draft
  from that slice on is kept as it was; it re-segments at most ``REACH`` slices the draft
  covers (a walk from one corrected slice degrades as far as the draft's did);
- from a slice the draft covers, a walk stays within the draft's extent (its end stands);
  from a slice the draft missed, it walks on into the gap the draft left;
- it never crosses another prompted key slice of the draft (``anchors``): what the user
  placed there is a stronger anchor than a walk from elsewhere;
- where the walk finds the structure's end (a stop rule fires) before it meets the draft,
  the draft's contiguous slices beyond that end are the overrun the user is correcting and
  are cleared, up to the next anchor (``clear_past_end``, the default);
- with a marked ``extent`` (the structure's first and last slice, ``extent: required``
  protocols), a walk never crosses its ends. The clinician's correction wins over the marked
  extent, though: a correction on a slice outside it is accepted and moves that end out to
  the corrected slice (``Correction.extent``), so its walk fills the gap back towards the
  draft but does not run on beyond the slice the clinician boxed; a further correction
  further out extends it again. The job stores the new extent with the version.

Measured on the abdominal reference CT (``bench/propagation_accuracy.py``): see the bench's
+1 / +2 columns, which apply one and two such corrections on the slice of largest error.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from model.engines.base import (
    Box,
    CancelCheck,
    Engine,
    Prediction,
    ProgressCallback,
    SegmentationCancelled,
    SegmentOptions,
    checked_volume,
)
from model.postprocess import dice
from model.preprocess import normalise_intensity
from model.propagation import Stepper

Point = tuple[float, float, int]
PredictWithPoints = Callable[..., Prediction]

AGREE_DICE = 0.9
MAX_BOXES = 3  # as many as a protocol's boxes_per_part asks on one slice
# Slices the draft covers that a walk may re-segment (or clear) in each direction; measured on
# the abdominal reference CT, fp32, two corrections on the slices of largest error (2026-12-07):
# mean Dice after +1 / +2 -- unlimited 0.756 / 0.806, 1: 0.799 / 0.811, 2: 0.794 / 0.816; keeping
# the draft past a found end instead of clearing it: 0.793 / 0.812 (unlimited), 0.797 / 0.812 (2).
# Before ``walk_empty`` (a walk from a drawn slice went on into empty slices, overrunning the
# adrenals): 0.726 / 0.776 unlimited.
REACH = 2


@dataclass
class Correction:
    """A corrected draft.

    mask: uint8 (slices, rows, cols), the whole volume (the draft outside ``first..last``).
    first, last: the slices that were re-segmented or cleared, inclusive.
    per_slice_iou: predicted IoU of every re-segmented slice that kept a mask.
    stop_reasons: why each walk ended, keyed 'up' / 'down'.
    extent: the marked (first, last) slices after the correction (the given extent moved out
        to a corrected slice outside it), None when none was given.
    """

    mask: np.ndarray
    first: int
    last: int
    per_slice_iou: dict[int, float]
    stop_reasons: dict[str, str] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    extent: tuple[int, int] | None = None

    @property
    def changed_slices(self) -> list[int]:
        return list(range(self.first, self.last + 1))


def check_correction_prompt(shape_zyx: Sequence[int], slice_index: int, boxes: Sequence[Box],
                            points: Sequence[Point] | None) -> None:
    """ValueError, saying what is wrong, for a prompt outside the volume or malformed."""
    num_slices, rows, cols = (int(v) for v in shape_zyx)
    if not 0 <= int(slice_index) < num_slices:
        raise ValueError(f"slice {slice_index} is out of range: the volume has slices "
                         f"0..{num_slices - 1}")
    if not 1 <= len(boxes) <= MAX_BOXES:
        raise ValueError(f"a correction takes 1 to {MAX_BOXES} boxes (one per part of the "
                         f"structure on the slice), not {len(boxes)}")
    if points and len(boxes) != 1:
        raise ValueError("points go with one box; give one box, or several boxes without points")
    for box in boxes:
        x0, y0, x1, y1 = (float(v) for v in box)
        if not (0 <= x0 <= x1 <= cols - 1 and 0 <= y0 <= y1 <= rows - 1):
            raise ValueError(f"the box {list(box)} must have x0 <= x1 within 0..{cols - 1} "
                             f"and y0 <= y1 within 0..{rows - 1}")
    for x, y, label in points or ():
        if label not in (0, 1):
            raise ValueError("point labels must be 1 (inside) or 0 (outside)")
        if not (0 <= x <= cols - 1 and 0 <= y <= rows - 1):
            raise ValueError(f"the point ({x}, {y}) lies outside the {cols}x{rows} slice")


def correct(
    predict: PredictWithPoints,
    draft: np.ndarray,
    spacing_zyx: Sequence[float],
    slice_index: int,
    boxes: Sequence[Box],
    points: Sequence[Point] | None,
    options: SegmentOptions,
    intensities: np.ndarray | None = None,
    anchors: Sequence[int] = (),
    agree: float = AGREE_DICE,
    clear_past_end: bool = True,
    reach: int | None = REACH,
    walk_empty: bool | None = None,
    extent: tuple[int, int] | None = None,
    progress: ProgressCallback | None = None,
    cancelled: CancelCheck | None = None,
) -> Correction:
    """Correct `draft` from a prompt on `slice_index`: one box with `points`, or a box per
    part of the structure; `predict(index, box, points=None)` segments one slice.
    `anchors`: the draft's own prompted key slices. `reach`: at most this many slices the
    draft covers are re-segmented (or cleared) in each direction (None: until it agrees).
    `walk_empty`: whether a walk goes on into slices the draft left empty (None: only when
    the draft is empty on the corrected slice, i.e. the user boxed what the draft missed).
    `extent`: the marked (first, last) slices; walks stay within it, moved out to
    `slice_index` when the correction lies outside it (see the module's docstring)."""
    started = time.perf_counter()
    draft = np.asarray(draft).astype(bool)
    check_correction_prompt(draft.shape, slice_index, boxes, points)
    num_slices = draft.shape[0]
    key = int(slice_index)
    if walk_empty is None:
        walk_empty = not draft[key].any()
    mask = draft.copy()
    predictions = [predict(key, tuple(float(v) for v in box), points=list(points or []))
                   for box in boxes]
    mask[key] = np.logical_or.reduce([p.mask for p in predictions])
    if not mask[key].any():
        raise ValueError(f"the correction found nothing on slice {key}: move the box or the "
                         "points")
    per_slice_iou = {key: min(float(p.iou) for p in predictions)}
    stop_reasons: dict[str, str] = {}
    stepper = Stepper(lambda index, grown: predict(index, grown), draft.shape, spacing_zyx,
                      options, intensities)
    stepper.anchor(mask[key], key)
    lowest, highest = key, key
    others = sorted({int(a) for a in anchors} - {key})
    if extent is not None:
        extent = (min(int(extent[0]), key), max(int(extent[1]), key))
    done = 0

    for step, label in ((-1, "down"), (+1, "up")):
        ahead = [a for a in others if (a - key) * step > 0]
        bound = min(ahead, key=lambda a: abs(a - key)) if ahead else (
            -1 if step < 0 else num_slices)
        previous, index, replaced = mask[key], key + step, 0
        reason = "reached the next key slice" if ahead else "reached the end of the volume"
        if extent is not None:
            end = extent[0] - 1 if step < 0 else extent[1] + 1
            if (bound - end) * step > 0:
                bound, reason = end, "reached the marked end of the structure"
        while index != bound:
            if cancelled is not None and cancelled():
                raise SegmentationCancelled("the correction was cancelled")
            if not walk_empty and not draft[index].any():
                reason = f"the draft ends before slice {index}"
                break
            found, iou, why = stepper.step(index, previous)
            done += 1
            if progress is not None:
                progress(done, done + 1)
            if found is None:
                reason = why
                if clear_past_end:
                    cleared = index
                    while cleared != bound and draft[cleared].any() and (
                            reach is None or replaced < reach):
                        mask[cleared] = False
                        cleared += step
                        replaced += 1
                    if cleared != index:
                        reason += f"; the draft beyond, to slice {cleared - step}, was cleared"
                        index = cleared
                break
            agreement = dice(found, draft[index])
            if agreement >= agree:
                reason = f"agrees with the draft at slice {index} (Dice {agreement:.2f})"
                break
            if draft[index].any():
                if reach is not None and replaced >= reach:
                    reason = f"re-segmented {reach} slices the draft covered"
                    break
                replaced += 1
            mask[index] = found
            per_slice_iou[index] = float(iou)
            previous = found
            index += step
        stop_reasons[label] = reason
        changed_end = index - step  # the last slice this walk changed
        lowest, highest = min(lowest, changed_end), max(highest, changed_end)

    if progress is not None:
        progress(done + 1, done + 1)
    kept = {i: v for i, v in per_slice_iou.items() if mask[i].any()}
    return Correction(
        mask=mask.astype(np.uint8), first=lowest, last=highest, per_slice_iou=kept,
        stop_reasons=stop_reasons, timings={"total": time.perf_counter() - started},
        extent=extent,
    )


def correct_with_engine(
    engine: Engine,
    volume_zyx: np.ndarray,
    spacing_zyx: Sequence[float],
    draft: np.ndarray,
    slice_index: int,
    boxes: Sequence[Box],
    points: Sequence[Point] | None = None,
    window: tuple[float, float] | None = None,
    modality: str = "CT",
    options: SegmentOptions | None = None,
    anchors: Sequence[int] = (),
    extent: tuple[int, int] | None = None,
    progress: ProgressCallback | None = None,
    cancelled: CancelCheck | None = None,
) -> Correction:
    """`correct` with any engine's 2D predictor on the volume in modality units (slice
    embeddings come from the engine's cache, so slices the draft was made on cost a decode)."""
    volume = checked_volume(volume_zyx, spacing_zyx)
    if tuple(np.shape(draft)) != volume.shape:
        raise ValueError(f"the draft has shape {list(np.shape(draft))}; the volume is "
                         f"{list(volume.shape)}")
    normalised = normalise_intensity(volume, modality, window)
    clock = {"embed": 0.0, "decode": 0.0}

    def predict(index: int, box: Box, points: Sequence[Point] | None = None) -> Prediction:
        started = time.perf_counter()
        handle = engine.embed_slice(normalised[index])
        embedded = time.perf_counter()
        prediction = engine.predict_2d(handle, box=box, points=points or None)
        clock["embed"] += embedded - started
        clock["decode"] += time.perf_counter() - embedded
        return prediction

    result = correct(predict, draft, spacing_zyx, slice_index, boxes, points,
                     options or SegmentOptions(), intensities=normalised, anchors=anchors,
                     extent=extent, progress=progress, cancelled=cancelled)
    result.timings.update(clock)
    return result
