"""Accuracy on a real head CT (Debian invesalius-examples): brain from a box.

The reference is the intracranial soft tissue made from the HU values (see
head_ct.py). The model leaves out the ventricles, which the reference fills;
hole filling closes most of them.
"""

from __future__ import annotations

import numpy as np
import pytest
from head_ct import BRAIN_WINDOW, box_of, brain_mask, brain_volume

from model.engines.base import SegmentOptions
from model.postprocess import dice, fill_holes_per_slice
from model.preprocess import window_to_unit

SLICES_2D = (50, 60, 70, 80, 88)
KEY_SLICE = 70
REACH = 6  # slices each way in the 3D test, to keep it short


@pytest.fixture(scope="module")
def masks_2d(head_ct, fp32_engine, int8_engine):
    results = {}
    for index in SLICES_2D:
        truth = brain_mask(head_ct.hu[index])
        image = window_to_unit(head_ct.hu[index], *BRAIN_WINDOW)
        box = box_of(truth)
        results[index] = (
            truth,
            fill_holes_per_slice(fp32_engine.predict_2d(image, box=box).mask[None])[0],
            fill_holes_per_slice(int8_engine.predict_2d(image, box=box).mask[None])[0],
        )
    return results


def test_2d_brain_dice_is_high_with_fp32_and_int8(masks_2d):
    for engine in (1, 2):
        scores = [dice(result[engine], result[0]) for result in masks_2d.values()]
        assert min(scores) > 0.85, scores
        assert np.mean(scores) > 0.92, scores


def test_2d_int8_masks_agree_with_fp32_masks(masks_2d):
    for index, (_, fp32, int8) in masks_2d.items():
        assert dice(fp32, int8) >= 0.98, index


@pytest.fixture(scope="module")
def volumes_3d(head_ct, fp32_engine, int8_engine):
    truth = brain_volume(head_ct.hu, range(KEY_SLICE - REACH, KEY_SLICE + REACH + 1))
    options = SegmentOptions(max_distance=REACH, fill_holes=True, largest_component=True)
    prompts = [(KEY_SLICE, box_of(truth[KEY_SLICE]))]
    return truth, [
        engine.segment_volume(head_ct.hu, head_ct.spacing_zyx, prompts, window=BRAIN_WINDOW,
                              modality="CT", options=options)
        for engine in (fp32_engine, int8_engine)
    ]


def test_3d_propagation_follows_the_brain_from_one_box(volumes_3d):
    truth, results = volumes_3d
    for result in results:
        covered = np.flatnonzero(result.mask.any(axis=(1, 2)))
        assert (covered.min(), covered.max()) == (KEY_SLICE - REACH, KEY_SLICE + REACH)
        assert dice(result.mask, truth) > 0.92
        assert all(iou > 0.6 for iou in result.per_slice_iou.values())


def test_3d_int8_mask_agrees_with_fp32(volumes_3d):
    _, (fp32, int8) = volumes_3d
    assert dice(fp32.mask, int8.mask) >= 0.98
