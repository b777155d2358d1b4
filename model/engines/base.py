"""The one interface every segmentation engine implements.

Coordinates: images are (rows, cols) arrays, volumes (slices, rows, cols);
boxes are (x0, y0, x1, y1) with x a column index and y a row index on the
original grid; points are (x, y). An engine is deterministic: the same inputs
give the same mask bit for bit on the same device.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import torch

Box = tuple[float, float, float, float]
SlicePrompt = tuple[int, Box]
ProgressCallback = Callable[[int, int], None]
CancelCheck = Callable[[], bool]


def checked_volume(volume_zyx: np.ndarray, spacing_zyx: Sequence[float]) -> np.ndarray:
    """The volume as an array, after checking it is (slices, rows, cols) with three positive
    spacings in mm; raises ValueError otherwise."""
    volume = np.asarray(volume_zyx)
    if volume.ndim != 3:
        raise ValueError(f"volume must be (slices, rows, cols), got shape {volume.shape}")
    if len(spacing_zyx) != 3 or min(float(s) for s in spacing_zyx) <= 0:
        raise ValueError(f"spacing must be three positive mm values, got {spacing_zyx}")
    return volume


class EngineUnavailable(RuntimeError):
    """The engine cannot run here; the message says why and what to install."""


class SegmentationCancelled(RuntimeError):
    """`cancelled()` returned True; no partial result is returned."""


@dataclass(frozen=True)
class Prediction:
    """One slice's result: a boolean mask on the original grid and its predicted IoU."""

    mask: np.ndarray
    iou: float
    logits: np.ndarray | None = None


@dataclass(frozen=True)
class SegmentOptions:
    """How a volume is propagated from its key slices and post-processed.

    margin_mm: the previous slice's mask box is grown by at least this much on every
        side to prompt the next slice.
    margin_fraction: ... and by at least this fraction of the box's width (height) on the
        left and right (top and bottom), so a structure whose cross-section grows from slice
        to slice is not cut by the previous slice's box (a fixed 3 mm is one pixel at 3 mm).
    intensity_sigmas: propagation in a direction stops at the first slice whose mask's mean
        (normalised) intensity differs from the key slice mask's by more than this many of
        the key slice's standard deviations: the run has left the structure for tissue that
        looks different (None: no such check; needs the intensities passed to propagate).
    keep_connected: on each propagated slice keep only the parts of the mask that touch the
        previous slice's mask (dilated by two pixels): a neighbouring structure that appears
        inside the grown box is not taken along.
    component_boxes: each connected part of the previous slice's mask (up to four, each of at
        least ``min_area_mm2``) prompts the next slice with its own box: one box around two
        parts (a vessel and its branch, the two lobes of an organ) covers the tissue between
        them and the model segments that instead. A part whose prediction fails a stop check
        ends alone; the run stops when none is left.
    min_iou: propagation in a direction stops at the first slice whose predicted
        IoU is below this (that slice is not kept).
    min_area_mm2: a mask smaller than this counts as vanished and stops propagation.
    max_distance: at most this many slices from a key slice (None: no limit).
    extent: (first, last), the structure's first and last slice as the user marked them
        (inclusive; the ``extent: required`` protocols): propagation never runs past them and
        nothing outside them is kept (None: no marked extent).
    largest_component: keep only the largest 3D connected component.
    fill_holes: fill holes in each slice's mask.
    """

    margin_mm: float = 3.0
    margin_fraction: float = 0.15
    intensity_sigmas: float | None = 2.5
    keep_connected: bool = True
    component_boxes: bool = True
    min_iou: float = 0.6
    min_area_mm2: float = 5.0
    max_distance: int | None = None
    extent: tuple[int, int] | None = None
    largest_component: bool = False
    fill_holes: bool = False

    def __post_init__(self) -> None:
        if self.margin_mm < 0:
            raise ValueError("margin_mm must not be negative")
        if not 0 <= self.margin_fraction <= 1:
            raise ValueError("margin_fraction must lie in [0, 1]")
        if self.intensity_sigmas is not None and self.intensity_sigmas <= 0:
            raise ValueError("intensity_sigmas must be positive (or None)")
        if not 0 <= self.min_iou <= 1:
            raise ValueError("min_iou must lie in [0, 1]")
        if self.min_area_mm2 < 0:
            raise ValueError("min_area_mm2 must not be negative")
        if self.max_distance is not None and self.max_distance < 0:
            raise ValueError("max_distance must not be negative")
        if self.extent is not None and not 0 <= self.extent[0] <= self.extent[1]:
            raise ValueError("extent must be (first, last) slices with 0 <= first <= last")


@dataclass
class VolumeResult:
    """A propagated volume mask.

    mask: uint8 (slices, rows, cols), 1 inside.
    per_slice_iou: predicted IoU of every slice that was kept, by slice index.
    key_slices: the prompted slices, ascending.
    timings: seconds spent, keys 'embed', 'decode', 'postprocess', 'total'.
    stop_reasons: why each run ended, keyed '<key slice>:up' / '<key slice>:down'.
    """

    mask: np.ndarray
    per_slice_iou: dict[int, float]
    key_slices: list[int]
    timings: dict[str, float]
    stop_reasons: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class EngineInfo:
    """What the registry knows about an engine without loading its weights.

    queue: the Celery queue whose workers run it ('cpu' or 'gpu').
    """

    name: str
    available: bool
    reason: str
    queue: str
    version: str
    description: str
    weights_sha256: str | None


class Engine(abc.ABC):
    """A promptable segmentation engine bound to one device.

    Subclasses set `name`, `version`, `queue` and `description`, and implement
    `availability`, `weights_sha256`, `embed_slice`, `predict_2d` and
    `segment_volume`.
    """

    name: ClassVar[str]
    version: ClassVar[str]
    queue: ClassVar[str]
    description: ClassVar[str] = ""

    def __init__(self, device: torch.device) -> None:
        self.device = device

    @classmethod
    @abc.abstractmethod
    def availability(cls) -> tuple[bool, str]:
        """(True, '') when the engine can run here, else (False, why and what to do)."""

    @classmethod
    def pinned_weights_sha256(cls) -> str | None:
        """The sha256 of the weights this engine is pinned to, known without loading."""
        return None

    @property
    def runtime(self) -> dict[str, str]:
        """How this engine computes on this machine (libraries, precisions), for provenance."""
        return {}

    @property
    @abc.abstractmethod
    def weights_sha256(self) -> str:
        """sha256 of the weights file actually loaded."""

    @abc.abstractmethod
    def embed_slice(self, image: np.ndarray) -> Any:
        """Embed a (rows, cols) image already normalised to [0, 1]; cached by content."""

    @abc.abstractmethod
    def predict_2d(
        self,
        slice_image: Any,
        box: Box | None = None,
        points: Sequence[tuple[float, float, int]] | None = None,
        return_logits: bool = False,
    ) -> Prediction:
        """Predict one slice from a box and/or points (x, y, label 1 positive / 0 negative).

        `slice_image` is a normalised (rows, cols) image or a handle from `embed_slice`.
        LiteMedSAM was trained on boxes: give points with a box, not alone.
        """

    @abc.abstractmethod
    def segment_volume(
        self,
        volume_zyx: np.ndarray,
        spacing_zyx: Sequence[float],
        prompts: Sequence[SlicePrompt],
        window: tuple[float, float] | None = None,
        modality: str = "CT",
        options: SegmentOptions | None = None,
        progress: ProgressCallback | None = None,
        cancelled: CancelCheck | None = None,
    ) -> VolumeResult:
        """Segment a (slices, rows, cols) volume in modality units from key-slice boxes."""


def default_device() -> torch.device:
    """CUDA when a GPU is visible, else the CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")
