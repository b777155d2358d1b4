"""Fixtures for the MedSAM-2 tests: small random networks and synthetic frames."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).parent))


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
