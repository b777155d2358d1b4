"""Fixtures for the MedSAM-2 tests: small random networks and synthetic frames."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import torch

sys.path.insert(0, str(Path(__file__).parent))


def smooth_volume(slices: int, rows: int, cols: int, seed: int = 0) -> np.ndarray:
    """A [0, 1] volume with a bright ellipsoid moving through it and mild noise."""
    rng = np.random.default_rng(seed)
    zz, yy, xx = np.mgrid[0:slices, 0:rows, 0:cols].astype(np.float32)
    centre_y = rows * (0.45 + 0.02 * zz)
    centre_x = cols * 0.5
    inside = ((yy - centre_y) / (0.2 * rows)) ** 2 + ((xx - centre_x) / (0.25 * cols)) ** 2
    volume = 0.2 + 0.6 * (inside <= 1) + 0.03 * rng.standard_normal((slices, rows, cols))
    return np.clip(volume, 0, 1).astype(np.float32)


@pytest.fixture(scope="session")
def tiny_models():
    """Random tiny networks at 256 for SAM 2.0 and 2.1, keyed by version."""
    from model.medsam2.config import ModelConfig
    from model.medsam2.model import MedSAM2Model

    models = {}
    for version in ("2.0", "2.1"):
        torch.manual_seed(5)
        model = MedSAM2Model(ModelConfig("tiny", version, 256)).eval()
        with torch.no_grad():
            model.sam_mask_decoder.pred_obj_score_head.layers[-1].bias.fill_(2.0)
        models[version] = model
    return models
