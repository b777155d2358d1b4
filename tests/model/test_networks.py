"""Our LiteMedSAM network against the package's own code, same weights, same inputs."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from reference_oracle import reference_network

from model.networks.lite_medsam import LiteMedSAM
from model.networks.tiny_vit import fuse_conv_bn
from model.preprocess import ResizeGeometry, window_to_unit


@pytest.fixture(scope="module")
def networks(weights_path):
    ours = LiteMedSAM()
    state = torch.load(weights_path, map_location="cpu", weights_only=True)
    ours.load_state_dict(state, strict=True)
    return ours.eval(), reference_network(str(weights_path))


@pytest.fixture(scope="module")
def image() -> torch.Tensor:
    """A [0, 1] image with structure: smooth blobs, an edge and noise."""
    rng = np.random.default_rng(7)
    yy, xx = np.mgrid[0:256, 0:256] / 256.0
    blob = np.exp(-((xx - 0.45) ** 2 + (yy - 0.55) ** 2) / 0.02)
    picture = 0.6 * blob + 0.3 * (xx > 0.7) + 0.05 * rng.standard_normal((256, 256))
    return ResizeGeometry.for_shape((256, 256), 256).image_to_model(window_to_unit(
        picture, 0.5, 1.0))


def test_it_loads_the_released_weights_strictly(networks, weights_path):
    ours, _ = networks
    state = torch.load(weights_path, map_location="cpu", weights_only=True)
    assert set(ours.state_dict()) == set(state)
    assert sum(p.numel() for p in ours.parameters()) == 9_791_300


def test_it_matches_the_reference_logits_within_1e_4(networks, image):
    ours, reference = networks
    box = np.array([[60.0, 70.0, 180.0, 200.0]], np.float32)
    with torch.inference_mode():
        expected = reference(image, box)
        embedding_ref = reference.image_encoder(image)
        embedding = ours.image_encoder(image)
        logits, _ = ours.decode(embedding, boxes=torch.from_numpy(box))
    assert (embedding - embedding_ref).abs().max().item() < 1e-4
    assert expected.shape == logits.shape == (1, 1, 256, 256)
    assert (logits - expected).abs().max().item() < 1e-4
    fuse_conv_bn(ours.image_encoder)
    with torch.inference_mode():
        fused_logits, _ = ours(image, torch.from_numpy(box))
    assert (fused_logits - expected).abs().max().item() < 1e-4


def test_it_matches_the_reference_decoder_for_points_and_multimask(networks):
    ours, reference = networks
    embedding = torch.randn(1, 256, 64, 64, generator=torch.Generator().manual_seed(3))
    coords = torch.tensor([[[100.0, 120.0], [30.0, 40.0]]])
    labels = torch.tensor([[1, 0]])
    with torch.inference_mode():
        sparse_ref, dense_ref = reference.prompt_encoder((coords, labels), None, None)
        masks_ref, iou_ref = reference.mask_decoder(
            embedding, reference.prompt_encoder.get_dense_pe(), sparse_ref, dense_ref, True)
        masks, iou = ours.decode(embedding, points=(coords, labels), multimask_output=True)
    assert masks.shape == masks_ref.shape == (1, 3, 256, 256)
    assert (masks - masks_ref).abs().max().item() < 1e-4
    assert (iou - iou_ref).abs().max().item() < 1e-5


def test_a_box_equals_two_corner_points_labelled_2_and_3(networks):
    ours, _ = networks
    box = torch.tensor([[10.0, 20.0, 90.0, 120.0]])
    corners = box.reshape(1, 2, 2)
    with torch.inference_mode():
        as_box = ours.prompt_encoder.embed_boxes(box)
        as_points = ours.prompt_encoder.embed_points(corners, torch.tensor([[2, 3]]), pad=False)
    torch.testing.assert_close(as_box, as_points)
