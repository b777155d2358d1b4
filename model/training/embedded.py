"""Slices embedded once by the frozen image encoder, with their targets in the model grid."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch.nn import functional as F

from model.engines.base import CancelCheck, ProgressCallback
from model.networks.lite_medsam import IMAGE_SIZE
from model.preprocess import ResizeGeometry
from model.training.examples import TrainingExample

# A normalised (rows, cols) image in, its (1, 256, 64, 64) embedding out, e.g.
# ``lambda image: engine.embed_slice(image).embedding``.
Encoder = Callable[[np.ndarray], torch.Tensor]


class TrainingCancelled(RuntimeError):
    """The caller's `cancelled()` returned True; nothing was produced."""


@dataclass(frozen=True)
class EmbeddedExample:
    """An example with its (1, 256, 64, 64) embedding and its mask in the model grid."""

    example: TrainingExample
    embedding: torch.Tensor
    geometry: ResizeGeometry
    target: torch.Tensor  # (1, side, side) float 0/1, resized like the image and padded


def mask_to_model(mask: np.ndarray, geometry: ResizeGeometry) -> torch.Tensor:
    """A boolean (rows, cols) mask resized and padded like its image: (1, side, side)."""
    tensor = torch.as_tensor(np.asarray(mask, np.float32))[None, None]
    if geometry.resized != geometry.original:
        tensor = F.interpolate(tensor, size=geometry.resized, mode="bilinear",
                               align_corners=False)
    tensor = (tensor > 0.5).float()
    pad_bottom = geometry.side - geometry.resized[0]
    pad_right = geometry.side - geometry.resized[1]
    return F.pad(tensor, (0, pad_right, 0, pad_bottom))[0]


@torch.inference_mode()
def embed_examples(
    encode: Encoder,
    examples: Sequence[TrainingExample],
    progress: ProgressCallback | None = None,
    cancelled: CancelCheck | None = None,
) -> list[EmbeddedExample]:
    """Run the frozen encoder once per example (the costly part on a CPU)."""
    embedded = []
    for index, example in enumerate(examples):
        if cancelled is not None and cancelled():
            raise TrainingCancelled("cancelled while embedding the training slices")
        geometry = ResizeGeometry.for_shape(example.image.shape, IMAGE_SIZE)
        embedding = encode(np.asarray(example.image, np.float32))
        embedded.append(EmbeddedExample(
            example=example,
            embedding=torch.as_tensor(np.asarray(embedding)).float().clone(),
            geometry=geometry,
            target=mask_to_model(example.mask, geometry),
        ))
        if progress is not None:
            progress(index + 1, len(examples))
    return embedded
