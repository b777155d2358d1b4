"""Checkpoint formats round trip strictly; a file that does not fit says why."""

from __future__ import annotations

import json

import pytest
import torch

from model.medsam2.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from model.medsam2.frames import image_to_model
from model.weights import file_sha256


def outputs(model, image):
    with torch.inference_mode():
        features = model.encode_image(image)
        heads = model.sam_heads(model.without_memory(features), features.high_res,
                                (torch.tensor([[[40.0, 50.0], [200.0, 210.0]]]),
                                 torch.tensor([[2, 3]], dtype=torch.int32)))
    return features.vision, heads.low_res_masks


@pytest.fixture(scope="module")
def image():
    yy, xx = torch.meshgrid(torch.linspace(0, 1, 256), torch.linspace(0, 1, 256), indexing="ij")
    return image_to_model((0.5 + 0.4 * torch.sin(6 * xx) * torch.cos(4 * yy)).numpy(), 256)[None]


@pytest.mark.parametrize("version", ["2.0", "2.1"])
def test_it_round_trips_fp32_with_a_model_card(tiny_models, image, tmp_path, version):
    model = tiny_models[version]
    path = save_checkpoint(model, tmp_path / "site_model.pt")
    loaded = load_checkpoint(path)
    assert loaded.config == model.config
    assert loaded.config_source == "model card site_model.json"
    assert loaded.sha256 == file_sha256(path)
    for ours, theirs in zip(outputs(loaded.model, image), outputs(model, image), strict=True):
        assert torch.equal(ours, theirs)


def test_it_loads_bf16_tensors_like_medical_sam2_pretrain(tiny_models, image, tmp_path):
    model = tiny_models["2.0"]
    path = save_checkpoint(model, tmp_path / "MedSAM2_pretrain.pth", dtype=torch.bfloat16)
    assert torch.load(path, weights_only=True)["model"][
        "image_encoder.trunk.pos_embed"].dtype == torch.bfloat16
    loaded = load_checkpoint(path)
    rounded = type(model)(model.config).eval()
    rounded.load_state_dict({k: v.to(torch.bfloat16).float() if v.is_floating_point() else v
                             for k, v in model.state_dict().items()})
    for ours, theirs in zip(outputs(loaded.model, image), outputs(rounded, image), strict=True):
        assert torch.equal(ours, theirs)


def test_without_a_card_it_infers_the_network_and_says_so(tiny_models, tmp_path):
    bowang = save_checkpoint(tiny_models["2.1"], tmp_path / "MedSAM2_latest.pt", card=False)
    loaded = load_checkpoint(bowang)
    # Key shapes fix the trunk and version, not the image size: bowang-lab's 512 is assumed.
    assert (loaded.config.variant, loaded.config.version, loaded.config.image_size) == (
        "tiny", "2.1", 512)
    assert "inferred from the key shapes" in loaded.config_source
    assert "MedSAM2_latest.json" in loaded.config_source
    official = save_checkpoint(tiny_models["2.0"], tmp_path / "sam2_hiera_tiny.pt", card=False)
    assert (load_checkpoint(official).config.version,
            load_checkpoint(official).config.image_size) == ("2.0", 1024)


def test_a_sam20_file_under_a_sam21_card_names_the_missing_keys(tiny_models, tmp_path):
    path = save_checkpoint(tiny_models["2.0"], tmp_path / "wrong.pt")
    (tmp_path / "wrong.json").write_text(json.dumps(
        {"variant": "tiny", "version": "2.1", "image_size": 256}))
    with pytest.raises(CheckpointError) as caught:
        load_checkpoint(path)
    message = str(caught.value)
    assert "missing keys (3)" in message
    assert "no_obj_embed_spatial" in message and "obj_ptr_tpos_proj.weight" in message


def test_unexpected_keys_and_other_files_are_named(tiny_models, tmp_path):
    state = {f"model.{k}": v for k, v in tiny_models["2.1"].state_dict().items()}
    torch.save({"model": state}, tmp_path / "prefixed.pt")
    (tmp_path / "prefixed.yaml").write_text("variant: tiny\nversion: '2.1'\nimage_size: 256\n")
    with pytest.raises(CheckpointError, match=r"unexpected keys \(\d+\): model\."):
        load_checkpoint(tmp_path / "prefixed.pt")
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="not a readable PyTorch checkpoint"):
        load_checkpoint(tmp_path / "junk.pt")
    with pytest.raises(CheckpointError, match="does not exist"):
        load_checkpoint(tmp_path / "absent.pt")


def test_a_wrong_variant_in_the_card_reports_the_shapes(tiny_models, tmp_path):
    path = save_checkpoint(tiny_models["2.1"], tmp_path / "small.pt")
    (tmp_path / "small.json").write_text(json.dumps({"variant": "base_plus", "version": "2.1"}))
    with pytest.raises(CheckpointError, match="does not fit sam2.1-hiera-base_plus-1024"):
        load_checkpoint(path)
