"""Measuring a network on embedded examples: Dice to the confirmed mask from the tight box,
the predicted IoU, and the robustness to boxes moved within the tolerance."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from model.networks.lite_medsam import LiteMedSAM
from model.postprocess import dice
from model.training.embedded import EmbeddedExample
from model.training.prompts import Box, BoxTolerance, jittered_box, tight_box


@torch.inference_mode()
def predict(network: LiteMedSAM, item: EmbeddedExample, box: Box) -> tuple[np.ndarray, float]:
    """The mask on the original grid and the predicted IoU for one box."""
    boxes = torch.as_tensor(item.geometry.box_to_model(box))[None]
    logits, iou = network.decode(item.embedding, boxes=boxes)
    mask = item.geometry.logits_to_original(logits[0, 0]).numpy() > 0
    return mask, float(iou[0, 0])


@dataclass
class Evaluation:
    """Per-example Dice and predicted IoU, and the perturbed-vs-tight Dice pooled."""

    sources: list[str]
    dices: list[float]
    predicted_iou: list[float]
    robustness: list[float]

    def as_dict(self) -> dict:
        summary = {
            "examples": len(self.dices),
            "dice_mean": round(float(np.mean(self.dices)), 4),
            "dice_min": round(float(np.min(self.dices)), 4),
            "predicted_iou_mean": round(float(np.mean(self.predicted_iou)), 4),
            "per_example": {s: round(d, 4) for s, d in zip(self.sources, self.dices, strict=True)},
        }
        if self.robustness:
            summary["robustness"] = {
                "dice_mean": round(float(np.mean(self.robustness)), 4),
                "dice_p5": round(float(np.percentile(self.robustness, 5)), 4),
                "runs": len(self.robustness),
            }
        return summary


def evaluate(
    network: LiteMedSAM,
    examples: Sequence[EmbeddedExample],
    tolerance: BoxTolerance | None = None,
    samples: int = 4,
    seed: int = 0,
) -> Evaluation:
    """Dice from the tight box per example; with a tolerance, also `samples` perturbed runs
    per example compared with the tight-box run (the robustness score on these slices)."""
    if not examples:
        raise ValueError("there is nothing to evaluate")
    network.eval()
    rng = np.random.default_rng(seed)
    result = Evaluation([], [], [], [])
    for item in examples:
        mask, iou = predict(network, item, tight_box(item.example.mask))
        result.sources.append(item.example.source)
        result.dices.append(dice(mask, item.example.mask))
        result.predicted_iou.append(iou)
        if tolerance is not None and tolerance.value > 0:
            for _ in range(samples):
                box = jittered_box(item.example.mask, tolerance, item.example.spacing_yx, rng)
                result.robustness.append(dice(predict(network, item, box)[0], mask))
    return result
