"""A fine-tuned weights file as its own engine: named and pinned by its sha256, loading only
the decoder side, refusing a file that was altered or that changes the frozen encoder."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from model.engines.base import EngineUnavailable
from model.engines.finetuned import engine_classes, engine_names
from model.training.checkpoint import load_trainable, save_state_dict


def nudged_network(weights_path, module: str = "mask_decoder"):
    network = load_trainable(weights_path)
    with torch.no_grad():
        for parameter in getattr(network, module).parameters():
            parameter.add_(0.01)
            break
    return network


def test_it_is_an_engine_of_its_own_pinned_to_its_sha256(weights_path, tmp_path):
    network = nudged_network(weights_path)
    path, sha256 = save_state_dict(network, tmp_path)
    fp32, int8 = engine_classes(path, sha256, "skull CT")
    assert (fp32.name, int8.name) == engine_names(sha256)
    assert fp32.name == f"litemedsam-ft-{sha256[:12]}"
    assert fp32.pinned_weights_sha256() == sha256 == int8.pinned_weights_sha256()
    assert fp32.availability() == (True, "")
    engine = fp32(device="cpu")
    assert engine.weights_sha256 == sha256
    for name, value in network.mask_decoder.state_dict().items():
        assert torch.equal(engine.network.mask_decoder.state_dict()[name], value), name
    image = np.linspace(0, 1, 64 * 80, dtype=np.float32).reshape(64, 80)
    assert engine.predict_2d(image, box=(10, 10, 60, 50)).mask.shape == (64, 80)


def test_it_refuses_a_file_altered_after_training(weights_path, tmp_path):
    path, sha256 = save_state_dict(nudged_network(weights_path), tmp_path)
    with path.open("ab") as handle:
        handle.write(b"tampered")
    fp32, _ = engine_classes(path, sha256)
    with pytest.raises(EngineUnavailable, match="does not match"):
        fp32(device="cpu")


def test_it_refuses_weights_that_change_the_frozen_encoder(weights_path, tmp_path):
    path, sha256 = save_state_dict(nudged_network(weights_path, "image_encoder"), tmp_path)
    fp32, _ = engine_classes(path, sha256)
    with pytest.raises(EngineUnavailable, match="more than the prompt encoder"):
        fp32(device="cpu")


def test_a_missing_file_makes_it_unavailable(tmp_path):
    fp32, _ = engine_classes(tmp_path / "gone.pth", "0" * 64)
    available, reason = fp32.availability()
    assert not available and "missing" in reason
