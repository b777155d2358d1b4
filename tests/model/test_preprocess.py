from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.nn import functional as F

from model.preprocess import (
    PromptError,
    ResizeGeometry,
    normalise_intensity,
    percentile_to_unit,
    window_to_unit,
)


def test_a_ct_window_maps_level_minus_and_plus_half_width_to_0_and_1():
    hu = np.array([-1000, -160, 40, 240, 3000], np.float32)
    np.testing.assert_allclose(window_to_unit(hu, 40, 400), [0, 0, 0.5, 1, 1])


def test_ct_uses_the_callers_window_and_other_modalities_use_percentiles():
    values = np.linspace(0, 1000, 10001, dtype=np.float32)
    np.testing.assert_allclose(normalise_intensity(values, "CT", (500, 1000)), values / 1000,
                               atol=1e-6)
    mr = normalise_intensity(values, "MR")
    assert mr.min() == 0 and mr.max() == 1
    assert np.mean(mr == 0) == pytest.approx(0.005, abs=2e-4)
    np.testing.assert_array_equal(percentile_to_unit(np.full(5, 7.0)), np.zeros(5))
    with pytest.raises(ValueError, match="CT only"):
        normalise_intensity(values, "MR", (40, 400))


@pytest.mark.parametrize("shape", [(256, 256), (512, 512), (200, 320), (330, 97), (100, 60)])
def test_the_longest_side_fills_the_grid_and_the_rest_is_padding(shape):
    geometry = ResizeGeometry.for_shape(shape, 256)
    assert max(geometry.resized) == 256
    ratio = (geometry.resized[0] / geometry.resized[1]) / (shape[0] / shape[1])
    assert ratio == pytest.approx(1, abs=2 / min(geometry.resized))
    image = geometry.image_to_model(np.ones(shape, np.float32))
    assert image.shape == (1, 3, 256, 256)
    assert image[0, 0, : geometry.resized[0], : geometry.resized[1]].min() == pytest.approx(1)
    assert image[0, 0].sum().item() == pytest.approx(np.prod(geometry.resized), rel=1e-4)


@pytest.mark.parametrize("shape", [(200, 320), (330, 97), (512, 512), (100, 60)])
def test_logits_map_back_with_the_inverse_of_the_forward_mapping(shape):
    """A model-grid field holding each cell's original coordinate maps back to identity."""
    geometry = ResizeGeometry.for_shape(shape, 256)
    rows, cols = shape
    sy, sx = geometry.resized[0] / rows, geometry.resized[1] / cols
    centres_y = (np.arange(256) + 0.5) / sy - 0.5
    centres_x = (np.arange(256) + 0.5) / sx - 0.5
    field = torch.from_numpy(np.stack(np.meshgrid(centres_y, centres_x, indexing="ij"))).float()
    back = geometry.logits_to_original(field).numpy()
    assert back.shape == (2, rows, cols)
    inner = (slice(2, rows - 2), slice(2, cols - 2))
    np.testing.assert_allclose(back[0][inner], np.mgrid[0:rows, 0:cols][0][inner], atol=1e-3)
    np.testing.assert_allclose(back[1][inner], np.mgrid[0:rows, 0:cols][1][inner], atol=1e-3)


def test_a_mask_survives_the_round_trip_and_its_box_maps_with_it():
    shape = (300, 180)
    mask = np.zeros(shape, np.float32)
    mask[40:210, 30:150] = 1
    geometry = ResizeGeometry.for_shape(shape, 256)
    grid = F.interpolate(torch.from_numpy(mask)[None, None], size=geometry.resized,
                         mode="bilinear", align_corners=False)
    grid = F.pad(grid, (0, 256 - geometry.resized[1], 0, 256 - geometry.resized[0]))
    back = geometry.logits_to_original(grid[0, 0] - 0.5).numpy() > 0
    assert (back != mask.astype(bool)).sum() == 0
    box = geometry.box_to_model((30, 40, 149, 209))
    assert geometry.resized == (256, 154)
    scale = np.array([154 / 180, 256 / 300] * 2)
    np.testing.assert_allclose(box, np.array([30, 40, 149, 209]) * scale, rtol=1e-6)


@pytest.mark.parametrize(
    ("box", "message"),
    [
        ((50, 50, 50, 80), "empty"),
        ((80, 50, 20, 90), "empty"),
        ((-1, 0, 20, 20), "outside the image"),
        ((0, 0, 120, 20), "outside the image"),
        ((0, 0, 20, 100), "outside the image"),
    ],
)
def test_a_box_that_is_empty_or_outside_the_image_is_refused(box, message):
    geometry = ResizeGeometry.for_shape((100, 120), 256)
    with pytest.raises(PromptError, match=message):
        geometry.box_to_model(box)
