"""2D stream predictor: one prompted image conditions a set of related images.

Medical SAM 2's use of SAM 2 for 2D data (e.g. a batch of fundus photographs):
a prompted image is decoded without memory and written to the self-sorting
memory bank; every later image attends to entries read from the bank (no
temporal encoding, no object pointers), is decoded without prompts, and its
own memory is offered to the bank.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from model.medsam2.frames import image_to_model, logits_to_original, prompt_points
from model.medsam2.memory_bank import BankEntry, MemoryBank, WriteOutcome
from model.medsam2.model import FrameFeatures, HeadOutput, MedSAM2Model


@dataclass
class StreamResult:
    """Logits on the image's own grid, the predicted IoU and what the bank did."""

    logits: Tensor
    iou: float
    object_score: float
    bank: WriteOutcome


class StreamPredictor:
    def __init__(
        self,
        model: MedSAM2Model,
        bank: MemoryBank | None = None,
        read_count: int = 1,
        deterministic: bool = True,
        seed: int = 0,
    ) -> None:
        self.model = model
        self.bank = bank or MemoryBank()
        self.read_count = read_count
        self.deterministic = deterministic
        self.generator = torch.Generator().manual_seed(seed)
        self.device = next(model.parameters()).device

    def _encode(self, image: np.ndarray) -> FrameFeatures:
        tensor = image_to_model(image, self.model.image_size).to(self.device)
        return self.model.encode_image(tensor[None])

    def _remember(self, features: FrameFeatures, heads: HeadOutput, binarize: bool,
                  shape: tuple[int, int]) -> StreamResult:
        memory, position = self.model.encode_memory(
            features, heads.high_res_masks, heads.object_score_logits, binarize)
        iou = float(heads.ious.max())
        outcome = self.bank.write(BankEntry(memory, position, iou, features.vision))
        return StreamResult(logits_to_original(heads.low_res_masks, shape)[0, 0], iou,
                            float(heads.object_score_logits), outcome)

    @torch.inference_mode()
    def prompt(
        self,
        image: np.ndarray,
        box: Sequence[float] | None = None,
        points: Sequence[tuple[float, float, int]] | None = None,
    ) -> StreamResult:
        """Segment a [0, 1] (rows, cols) image from a box and/or clicks and remember it."""
        shape = tuple(image.shape)
        coords, labels = prompt_points(shape, self.model.image_size, box, points)
        features = self._encode(image)
        heads = self.model.sam_heads(
            self.model.without_memory(features), features.high_res,
            (coords.to(self.device), labels.to(self.device)), multimask=labels.shape[1] <= 1)
        return self._remember(features, heads, binarize=True, shape=shape)

    @torch.inference_mode()
    def segment(self, image: np.ndarray) -> StreamResult:
        """Segment an unprompted image from the bank's memories and offer it to the bank."""
        shape = tuple(image.shape)
        features = self._encode(image)
        entries = self.bank.read(features.vision, self.read_count, self.deterministic,
                                 self.generator)
        memory = torch.cat([e.features.flatten(2).transpose(1, 2) for e in entries], dim=1)
        position = torch.cat([e.position.flatten(2).transpose(1, 2) for e in entries], dim=1)
        pix_feat = self.model.attend(features, memory, position)
        heads = self.model.sam_heads(pix_feat, features.high_res, multimask=True)
        return self._remember(features, heads, binarize=False, shape=shape)
