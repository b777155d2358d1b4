"""How much a result depends on exactly where the user put the prompt.

An entry's interaction template says how far a user may deviate (``interaction.tolerance``).
Re-running the engine with the prompt moved at random within that tolerance and comparing the
masks (Dice) measures the stability of the protocol:

- per entry, on its reference cases: the robustness score (mean and 5th percentile Dice);
- per result, at inference time: an agreement figure; low agreement flags the result for review.

Django-free: it takes an engine object and arrays, so it runs in a worker, a management command
or a test alike. Seeded, so the same inputs give the same figures.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from model.postprocess import dice
from model.protocol import (
    MULTI_SLICE_RULES,
    asks_extent,
    extent_tolerance_mm,
    jittered_extent,
    segment_options,
    standard_extent,
    standard_prompts,
)

Box = tuple[float, float, float, float]  # x0, y0, x1, y1 in pixels


@dataclass(frozen=True)
class Tolerance:
    value: float
    unit: str  # mm, px or percent (of the box's width and height)

    @classmethod
    def from_entry(cls, content: dict) -> Tolerance:
        spec = content["interaction"]["tolerance"]
        return cls(float(spec["value"]), spec["unit"])

    def in_pixels(self, box: Box, spacing_yx: tuple[float, float]) -> tuple[float, float]:
        """The largest shift allowed along x and along y, in pixels."""
        if self.unit == "mm":
            return self.value / spacing_yx[1], self.value / spacing_yx[0]
        if self.unit == "px":
            return self.value, self.value
        if self.unit == "percent":
            return (box[2] - box[0]) * self.value / 100, (box[3] - box[1]) * self.value / 100
        raise ValueError(f"unknown tolerance unit {self.unit!r}; use mm, px or percent")


def perturb_box(
    box: Box, shift_xy: tuple[float, float], shape_yx: tuple[int, int], rng: np.random.Generator
) -> Box:
    """Move each edge independently by up to the allowed shift, kept inside the image."""
    dx, dy = shift_xy
    offsets = rng.uniform(-1.0, 1.0, size=4) * np.array([dx, dy, dx, dy])
    x0, y0, x1, y1 = np.asarray(box, dtype=float) + offsets
    height, width = shape_yx
    x0, x1 = sorted((float(np.clip(x0, 0, width - 1)), float(np.clip(x1, 0, width - 1))))
    y0, y1 = sorted((float(np.clip(y0, 0, height - 1)), float(np.clip(y1, 0, height - 1))))
    return (x0, y0, max(x1, x0 + 1), max(y1, y0 + 1))


def perturb_point(
    point: tuple[float, float],
    shift_xy: tuple[float, float],
    shape_yx: tuple[int, int],
    rng: np.random.Generator,
) -> tuple[float, float]:
    """Move a click to a uniformly drawn spot within the tolerance ellipse, inside the image."""
    angle = rng.uniform(0, 2 * np.pi)
    radius = np.sqrt(rng.uniform(0, 1))
    x = point[0] + radius * np.cos(angle) * shift_xy[0]
    y = point[1] + radius * np.sin(angle) * shift_xy[1]
    return (float(np.clip(x, 0, shape_yx[1] - 1)), float(np.clip(y, 0, shape_yx[0] - 1)))


@dataclass(frozen=True)
class ReferenceCase:
    """An image or volume with the prompt an expert placed by the entry's template."""

    name: str
    image: np.ndarray  # (z, y, x) volume; a 2D image is one slice
    spacing_zyx: tuple[float, float, float]
    slice_index: int
    box: Box
    truth: np.ndarray | None = None  # optional reference mask, same shape as the result
    more_prompts: tuple[tuple[int, Box], ...] = ()  # further (slice, box) of the protocol
    extent: tuple[int, int] | None = None  # the marked first and last slice (extent: required)

    @property
    def prompts(self) -> list[tuple[int, Box]]:
        return [(self.slice_index, self.box), *self.more_prompts]

    def following(self, content: dict) -> ReferenceCase:
        """This case with the prompt the entry's protocol asks for, placed on its reference
        mask (several slices, a box per part: ``model.protocol.standard_prompts``; the
        reference's first and last slice where it asks for the extent: ``standard_extent``);
        itself when it has no reference mask or the protocol asks for one box and no extent
        (the case's own box is the expert's placement)."""
        interaction = content.get("interaction", {})
        several = (interaction.get("slice") in MULTI_SLICE_RULES
                   or interaction.get("boxes_per_part"))
        if self.truth is None or not (several or asks_extent(content)):
            return self
        truth = np.asarray(self.truth, bool)
        extent = standard_extent(content, truth)
        if not several:  # the expert's own key slice lies within the ends marked
            return dataclasses.replace(self, extent=(min(extent[0], self.slice_index),
                                                     max(extent[1], self.slice_index)))
        (index, box), *more = standard_prompts(content, truth)
        return dataclasses.replace(self, slice_index=index, box=box, more_prompts=tuple(more),
                                   extent=extent)

    @property
    def shape_yx(self) -> tuple[int, int]:
        return self.image.shape[1], self.image.shape[2]


@dataclass
class Stability:
    """Dice of each perturbed run against the unperturbed one."""

    dices: list[float]
    accuracy: list[float] = field(default_factory=list)  # unperturbed Dice to truth, per case

    @property
    def mean(self) -> float:
        return float(np.mean(self.dices))

    @property
    def p5(self) -> float:
        return float(np.percentile(self.dices, 5))

    @property
    def minimum(self) -> float:
        return float(np.min(self.dices))

    def as_dict(self) -> dict:
        summary = {
            "dice_mean": round(self.mean, 4),
            "dice_p5": round(self.p5, 4),
            "dice_min": round(self.minimum, 4),
            "runs": len(self.dices),
        }
        if self.accuracy:
            summary["truth_dice_mean"] = round(float(np.mean(self.accuracy)), 4)
        return summary


Prompts = Sequence[tuple[int, Box]]


def volume_segmenter(engine, case: ReferenceCase, window, modality: str, options=None):
    """Adapt an engine's ``segment_volume`` to "prompts in, mask out" for one case."""

    def segment(prompts: Prompts, extent: tuple[int, int] | None = None) -> np.ndarray:
        chosen = options  # an extent comes with the entry's options
        if extent is not None and options is not None:
            chosen = dataclasses.replace(options, extent=extent)
        result = engine.segment_volume(
            case.image,
            case.spacing_zyx,
            prompts=[(index, tuple(float(v) for v in box)) for index, box in prompts],
            window=window,
            modality=modality,
            options=chosen,
        )
        return np.asarray(getattr(result, "mask", result)) > 0

    return segment


def perturb_boxes(boxes: Sequence[Box], tolerance: Tolerance, spacing_yx: tuple[float, float],
                  shape_yx: tuple[int, int], rng: np.random.Generator) -> list[Box]:
    """Every box moved independently within the tolerance (a hand places each anew)."""
    return [perturb_box(box, tolerance.in_pixels(box, spacing_yx), shape_yx, rng)
            for box in boxes]


def robustness_score(
    engine,
    cases: Sequence[ReferenceCase],
    tolerance: Tolerance,
    *,
    samples: int = 8,
    window=None,
    modality: str = "CT",
    seed: int = 0,
    content: dict | None = None,
) -> Stability:
    """Run the engine on each case, then ``samples`` times with every box perturbed; pool the
    Dice of every perturbed run against its case's unperturbed run. With the entry's
    ``content``, a case with a reference mask is prompted as the entry's protocol asks (its
    slices and boxes per part, its first and last slice) and propagated with the entry's
    options; with ``extent: required`` each perturbed run also moves each end slice within
    ``extent_tolerance_mm`` (``model.protocol.jittered_extent``)."""
    if not cases:
        raise ValueError("robustness needs at least one reference case")
    if samples < 1:
        raise ValueError("robustness needs at least one perturbed run per case")
    rng = np.random.default_rng(seed)
    stability = Stability(dices=[])
    for case in cases:
        options = None
        if content is not None:
            case = case.following(content)
            options = segment_options(content, case.spacing_zyx[0], case.extent)
        segment = volume_segmenter(engine, case, window, modality, options)
        baseline = segment(case.prompts, case.extent)
        if case.truth is not None:
            stability.accuracy.append(dice(baseline, case.truth))
        spacing_yx = (case.spacing_zyx[1], case.spacing_zyx[2])
        keys = sorted({index for index, _ in case.prompts})
        for _ in range(samples):
            moved = perturb_boxes([b for _, b in case.prompts], tolerance, spacing_yx,
                                  case.shape_yx, rng)
            prompts = [(index, box) for (index, _), box in zip(case.prompts, moved, strict=True)]
            ends = None
            if case.extent is not None:  # each end slice moved within its own tolerance
                ends = jittered_extent(case.extent, extent_tolerance_mm(content or {}),
                                       case.spacing_zyx[0], case.image.shape[0], keys, rng)
            stability.dices.append(dice(segment(prompts, ends), baseline))
    return stability


@dataclass(frozen=True)
class Agreement:
    dices: tuple[float, ...]
    min_dice: float

    @property
    def mean(self) -> float:
        return float(np.mean(self.dices)) if self.dices else 1.0

    @property
    def flagged(self) -> bool:
        """Low agreement: the result hinges on where the box happened to be placed."""
        return bool(self.dices) and self.mean < self.min_dice


def result_agreement(
    segment: Callable[[list[Box]], np.ndarray],
    boxes: Sequence[Box],
    result_mask: np.ndarray,
    tolerance: Tolerance,
    spacing_yx: tuple[float, float],
    shape_yx: tuple[int, int],
    *,
    samples: int,
    min_dice: float,
    seed: int = 0,
) -> Agreement:
    """Agreement of one result with re-runs from perturbed prompts (entry's ``qa.agreement``):
    `segment` takes the boxes of one slice, each moved within the tolerance."""
    rng = np.random.default_rng(seed)
    dices = [dice(segment(perturb_boxes(boxes, tolerance, spacing_yx, shape_yx, rng)),
                  result_mask) for _ in range(samples)]
    return Agreement(tuple(dices), min_dice)
