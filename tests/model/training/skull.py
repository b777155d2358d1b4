"""The skull ring of the real head CT: a structure the released LiteMedSAM handles poorly
(from a box around the head it segments the inside, not the bone ring), so a decoder
fine-tune has something visible to learn."""

from __future__ import annotations

import numpy as np
from scipy import ndimage

BONE_WINDOW = (500.0, 2000.0)


def skull_mask(hu_slice: np.ndarray) -> np.ndarray:
    """The largest connected region of bone (>= 250 HU after a one-pixel opening)."""
    bone = ndimage.binary_opening(hu_slice >= 250, iterations=1)
    labels, count = ndimage.label(bone)
    if count == 0:
        return bone
    sizes = np.bincount(labels.ravel())
    sizes[0] = 0
    return labels == sizes.argmax()
