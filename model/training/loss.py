"""MedSAM's training loss: soft Dice plus binary cross-entropy on the mask logits, and the
mean squared error of the predicted IoU against the IoU the mask actually reached."""

from __future__ import annotations

import torch
from torch.nn import functional as F


def dice_bce(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean over the batch of (1 - soft Dice) + BCE for (B, 1, H, W) logits and 0/1 targets."""
    probability = torch.sigmoid(logits)
    dims = tuple(range(1, logits.ndim))
    overlap = (probability * target).sum(dims)
    total = probability.sum(dims) + target.sum(dims)
    soft_dice = (2 * overlap + 1e-5) / (total + 1e-5)
    return (1 - soft_dice).mean() + F.binary_cross_entropy_with_logits(logits, target)


def achieved_iou(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """(B, 1) IoU of the thresholded masks with the targets (no gradient)."""
    predicted = (logits.detach() > 0).float()
    dims = tuple(range(2, logits.ndim))
    overlap = (predicted * target).sum(dims)
    union = predicted.sum(dims) + target.sum(dims) - overlap
    return overlap / union.clamp(min=1.0)


def training_loss(logits: torch.Tensor, iou_pred: torch.Tensor,
                  target: torch.Tensor) -> torch.Tensor:
    return dice_bce(logits, target) + F.mse_loss(iou_pred, achieved_iou(logits, target))
