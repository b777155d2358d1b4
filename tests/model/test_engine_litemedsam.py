"""The fp32 engine on synthetic images: caching, prompts, geometry, determinism."""

from __future__ import annotations

import numpy as np
import pytest

from model.postprocess import dice
from model.preprocess import PromptError


def disk_image(shape, centre, radius):
    yy, xx = np.mgrid[0 : shape[0], 0 : shape[1]]
    disk = (yy - centre[0]) ** 2 + (xx - centre[1]) ** 2 <= radius**2
    rng = np.random.default_rng(0)
    image = 0.15 + 0.6 * disk + 0.03 * rng.standard_normal(shape)
    return np.clip(image, 0, 1).astype(np.float32), disk


@pytest.fixture(scope="module")
def disk():
    return disk_image((200, 320), centre=(90, 200), radius=40)


def test_it_segments_a_disk_on_a_non_square_image_in_the_right_place(fp32_engine, disk):
    image, truth = disk
    prediction = fp32_engine.predict_2d(image, box=(155, 45, 245, 135))
    assert prediction.mask.shape == (200, 320) and prediction.mask.dtype == bool
    assert dice(prediction.mask, truth) > 0.9
    assert 0 < prediction.iou <= 1.2


def test_a_second_prompt_on_the_same_slice_only_runs_the_decoder(fp32_engine, disk, monkeypatch):
    image, truth = disk
    image = image.copy()
    image[0, 0] = 0.5  # a slice this engine has not seen
    calls = []
    encode = fp32_engine._encode
    monkeypatch.setattr(fp32_engine, "_encode", lambda x: calls.append(1) or encode(x))
    first = fp32_engine.predict_2d(image, box=(155, 45, 245, 135))
    second = fp32_engine.predict_2d(image.copy(), box=(150, 40, 250, 140))
    handle = fp32_engine.embed_slice(image)
    third = fp32_engine.predict_2d(handle, box=(155, 45, 245, 135))
    assert len(calls) == 1
    assert dice(second.mask, truth) > 0.9
    np.testing.assert_array_equal(first.mask, third.mask)
    assert first.iou == third.iou


def test_points_go_with_a_box_and_logits_come_on_the_original_grid(fp32_engine, disk):
    """LiteMedSAM was trained on boxes; points are accepted alongside (SAM's encoder)."""
    image, truth = disk
    prediction = fp32_engine.predict_2d(image, box=(155, 45, 245, 135), points=[(20, 20, 0)],
                                        return_logits=True)
    assert prediction.logits.shape == (200, 320)
    np.testing.assert_array_equal(prediction.mask, prediction.logits > 0)
    assert dice(prediction.mask, truth) > 0.9


@pytest.mark.parametrize(
    ("prompt", "message"),
    [
        ({"box": (10, 10, 10, 50)}, "empty"),
        ({"box": (10, 10, 330, 50)}, "outside the image"),
        ({"points": [(400, 10, 1)]}, "outside the image"),
        ({"points": [(40, 10, 2)]}, "labels"),
        ({}, "a box or at least one point"),
    ],
)
def test_unusable_prompts_are_refused_with_a_reason(fp32_engine, disk, prompt, message):
    with pytest.raises(PromptError, match=message):
        fp32_engine.predict_2d(disk[0], **prompt)


def test_segment_volume_is_deterministic_and_reports_progress(fp32_engine):
    slices = []
    truth = []
    for radius in (20, 28, 34, 28, 20):
        image, disk = disk_image((96, 96), centre=(48, 50), radius=radius)
        slices.append(image * 1000 - 200)  # "HU"
        truth.append(disk)
    volume = np.stack(slices).astype(np.float32)
    progress = []
    first = fp32_engine.segment_volume(volume, (3.0, 1.0, 1.0), [(2, (14, 12, 86, 84))],
                                       window=(300, 1000), progress=lambda d, t: progress.append(d))
    second = fp32_engine.segment_volume(volume, (3.0, 1.0, 1.0), [(2, (14, 12, 86, 84))],
                                        window=(300, 1000))
    np.testing.assert_array_equal(first.mask, second.mask)
    assert first.mask.shape == volume.shape and first.mask.dtype == np.uint8
    assert dice(first.mask, np.stack(truth)) > 0.85
    assert progress[-1] == 5
    assert set(first.timings) >= {"embed", "decode", "postprocess", "total"}


def test_segment_volume_refuses_a_box_outside_the_slice(fp32_engine):
    volume = np.zeros((3, 40, 50), np.float32)
    with pytest.raises(PromptError, match="outside the image"):
        fp32_engine.segment_volume(volume, (1, 1, 1), [(1, (0, 0, 60, 30))])
