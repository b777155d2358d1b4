"""Images into SAM 2's input grid, prompts into model pixels, logits back out.

SAM 2 squashes every image to S x S (no aspect ratio kept), repeats grey
levels into three channels and normalises with the ImageNet mean and std.
Prompts scale by S / width and S / height; logits are resized bilinearly back
to the original (rows, cols).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import Tensor
from torch.nn import functional as F

from model.preprocess import PromptError

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def image_to_model(image: np.ndarray | Tensor, side: int) -> Tensor:
    """A [0, 1] (rows, cols) image as a normalised (3, side, side) float32 tensor."""
    tensor = torch.as_tensor(np.ascontiguousarray(image, np.float32))
    if tensor.ndim != 2:
        raise ValueError(f"expected a (rows, cols) image, got shape {tuple(tensor.shape)}")
    if tuple(tensor.shape) != (side, side):
        tensor = F.interpolate(tensor[None, None], size=(side, side), mode="bilinear",
                               align_corners=False, antialias=True)[0, 0]
    mean = torch.tensor(IMAGENET_MEAN)[:, None, None]
    std = torch.tensor(IMAGENET_STD)[:, None, None]
    return (tensor[None].expand(3, -1, -1) - mean) / std


class VolumeFrames:
    """The slices of a normalised (slices, rows, cols) volume, prepared on demand."""

    def __init__(self, volume: np.ndarray, side: int) -> None:
        self.volume = volume
        self.side = side

    def __len__(self) -> int:
        return int(self.volume.shape[0])

    def __getitem__(self, index: int) -> Tensor:
        return image_to_model(self.volume[index], self.side)


def prompt_points(
    shape: tuple[int, int],
    side: int,
    box: Sequence[float] | None = None,
    points: Sequence[tuple[float, float, int]] | None = None,
) -> tuple[Tensor, Tensor]:
    """(1, N, 2) model-pixel coordinates and (1, N) labels: box corners first
    (labels 2, 3), then clicks (1 inside, 0 outside). Raises PromptError."""
    rows, cols = shape
    coords: list[tuple[float, float]] = []
    labels: list[int] = []
    if box is not None:
        x0, y0, x1, y1 = (float(v) for v in box)
        if not (x1 > x0 and y1 > y0):
            raise PromptError(f"box ({x0:g}, {y0:g}, {x1:g}, {y1:g}) is empty: it needs "
                              "x0 < x1 and y0 < y1")
        coords += [(x0, y0), (x1, y1)]
        labels += [2, 3]
    for point in points or ():
        x, y, label = float(point[0]), float(point[1]), int(point[2])
        if label not in (0, 1):
            raise PromptError("point labels must be 1 (inside) or 0 (outside)")
        coords.append((x, y))
        labels.append(label)
    if not coords:
        raise PromptError("a box or at least one point is needed")
    array = np.asarray(coords, np.float32)
    outside = (array < 0).any(1) | (array[:, 0] > cols - 1) | (array[:, 1] > rows - 1)
    if outside.any():
        raise PromptError(f"prompt {array[outside][0].tolist()} is outside the image: columns "
                          f"run 0..{cols - 1} and rows 0..{rows - 1}")
    scaled = torch.from_numpy(array) / torch.tensor([cols, rows], dtype=torch.float32) * side
    return scaled[None], torch.tensor([labels], dtype=torch.int32)


def logits_to_original(logits: Tensor, shape: tuple[int, int]) -> Tensor:
    """(B, 1, h, w) logits resized to (B, 1, rows, cols)."""
    if tuple(logits.shape[-2:]) == tuple(shape):
        return logits
    return F.interpolate(logits.float(), size=tuple(shape), mode="bilinear", align_corners=False)
