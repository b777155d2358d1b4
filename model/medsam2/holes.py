"""SAM 2's hole filling on the CPU (the reference needs a CUDA extension).

A hole is a background component (logit <= 0, 8-connected) of at most
`max_area` pixels, including one touching the border; its logits become 0.1.
"""

from __future__ import annotations

import numpy as np
import torch
from scipy import ndimage
from torch import Tensor

EIGHT_CONNECTED = np.ones((3, 3), bool)


def fill_small_holes(logits: Tensor, max_area: int) -> Tensor:
    """(B, 1, H, W) logits with background components of <= max_area pixels set to 0.1."""
    if max_area <= 0:
        return logits
    background = (logits <= 0).cpu().numpy()
    holes = np.zeros_like(background)
    for index in np.ndindex(background.shape[:2]):
        labels, count = ndimage.label(background[index], structure=EIGHT_CONNECTED)
        if count:
            areas = np.bincount(labels.ravel())
            small = areas <= max_area
            small[0] = False
            holes[index] = small[labels]
    if not holes.any():
        return logits
    mask = torch.from_numpy(holes).to(logits.device)
    return torch.where(mask, torch.tensor(0.1, dtype=logits.dtype, device=logits.device), logits)
