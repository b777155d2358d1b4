"""Box propagation with a stand-in predictor that knows the true object."""

from __future__ import annotations

import numpy as np
import pytest

from model.engines.base import Prediction, SegmentationCancelled, SegmentOptions
from model.propagation import Run, grow_box, plan_runs, propagate

SPACING = (2.0, 0.5, 0.5)  # slice, row, col mm


def ellipsoid(shape=(30, 64, 64), centre=(15, 32, 32), radii=(8, 20, 14)) -> np.ndarray:
    z, y, x = np.ogrid[: shape[0], : shape[1], : shape[2]]
    return (((z - centre[0]) / radii[0]) ** 2 + ((y - centre[1]) / radii[1]) ** 2
            + ((x - centre[2]) / radii[2]) ** 2) <= 1


class OraclePredictor:
    """Returns the truth inside the box; records every call."""

    def __init__(self, truth: np.ndarray, iou=lambda index: 0.9) -> None:
        self.truth = truth
        self.iou = iou
        self.calls: list[tuple[int, tuple[float, ...]]] = []

    def __call__(self, index, box):
        self.calls.append((index, tuple(box)))
        x0, y0, x1, y1 = (int(round(v)) for v in box)
        mask = np.zeros_like(self.truth[index])
        mask[y0:y1 + 1, x0:x1 + 1] = self.truth[index, y0:y1 + 1, x0:x1 + 1]
        return Prediction(mask=mask, iou=self.iou(index))


def key_box(truth, index):
    rows = np.flatnonzero(truth[index].any(1))
    cols = np.flatnonzero(truth[index].any(0))
    return (cols[0], rows[0], cols[-1], rows[-1])


def test_it_propagates_both_ways_from_one_box_until_the_mask_vanishes():
    truth = ellipsoid()
    predictor = OraclePredictor(truth)
    result = propagate(predictor, truth.shape, SPACING, [(15, key_box(truth, 15))],
                       SegmentOptions(min_area_mm2=0.0))
    np.testing.assert_array_equal(result.mask.astype(bool), truth)
    assert result.key_slices == [15]
    assert sorted(result.per_slice_iou) == list(np.flatnonzero(truth.any((1, 2))))
    assert "vanished" in result.stop_reasons["15:up"]
    assert "vanished" in result.stop_reasons["15:down"]
    assert result.mask.dtype == np.uint8


def test_each_next_box_is_the_previous_masks_box_grown_by_the_margin_in_mm():
    truth = ellipsoid()
    predictor = OraclePredictor(truth)
    propagate(predictor, truth.shape, SPACING, [(15, key_box(truth, 15))],
              SegmentOptions(margin_mm=2.0, margin_fraction=0.0))
    calls = dict(predictor.calls)
    x0, y0, x1, y1 = key_box(truth, 15)
    assert calls[16] == (x0 - 4, y0 - 4, x1 + 4, y1 + 4)  # 2 mm at 0.5 mm per pixel
    assert calls[14] == calls[16]


def test_a_large_box_grows_by_a_fraction_of_its_size_so_a_widening_structure_is_not_cut():
    # A cone widening away from the key slice: a fixed one-pixel margin cuts it.
    truth = np.zeros((12, 80, 80), bool)
    for index in range(12):
        half = 10 + 2 * index
        truth[index, 40 - half:40 + half, 40 - half:40 + half] = True
    fixed = propagate(OraclePredictor(truth), truth.shape, (3.0, 3.0, 3.0),
                      [(0, key_box(truth, 0))], SegmentOptions(margin_fraction=0.0))
    grown = propagate(OraclePredictor(truth), truth.shape, (3.0, 3.0, 3.0),
                      [(0, key_box(truth, 0))], SegmentOptions())
    assert fixed.mask[11].sum() < 0.6 * truth[11].sum()
    np.testing.assert_array_equal(grown.mask.astype(bool), truth)
    assert grow_box((10, 10, 29, 49), (1, 1), (80, 80), fraction=0.1) == (8.0, 6.0, 31.0, 53.0)


def test_a_neighbour_appearing_in_the_box_is_not_taken_along():
    truth = ellipsoid()
    truth[16:, 10:14, 40:44] = True  # another object near the edge, from slice 16 on
    predictor = OraclePredictor(truth)
    box = key_box(ellipsoid(), 15)
    result = propagate(predictor, truth.shape, SPACING, [(15, box)],
                       SegmentOptions(margin_mm=4.0))
    assert not result.mask[16:, 10:14, 40:44].any()
    loose = propagate(OraclePredictor(truth), truth.shape, SPACING, [(15, box)],
                      SegmentOptions(margin_mm=4.0, keep_connected=False))
    assert loose.mask[16:, 10:14, 40:44].any()


def test_a_run_that_leaves_the_structures_intensity_stops():
    truth = ellipsoid()
    intensities = np.where(truth, 0.5, 0.1).astype(np.float32)
    intensities += np.random.default_rng(0).normal(0, 0.01, truth.shape).astype(np.float32)
    intensities[19:] = np.where(truth[19:], 0.9, 0.1)  # from slice 19 on the "object" is bone
    result = propagate(OraclePredictor(truth), truth.shape, SPACING,
                       [(15, key_box(truth, 15))], SegmentOptions(min_area_mm2=0.0),
                       intensities=intensities)
    assert np.flatnonzero(result.mask.any((1, 2))).max() == 18
    assert "intensity" in result.stop_reasons["15:up"]
    assert "vanished" in result.stop_reasons["15:down"]
    unchecked = propagate(OraclePredictor(truth), truth.shape, SPACING,
                          [(15, key_box(truth, 15))],
                          SegmentOptions(min_area_mm2=0.0, intensity_sigmas=None),
                          intensities=intensities)
    assert unchecked.mask[19:].any()


def test_a_low_predicted_iou_stops_the_run_and_that_slice_is_dropped():
    truth = ellipsoid()
    predictor = OraclePredictor(truth, iou=lambda index: 0.3 if index == 19 else 0.9)
    result = propagate(predictor, truth.shape, SPACING, [(15, key_box(truth, 15))],
                       SegmentOptions(min_iou=0.5, min_area_mm2=0.0))
    kept = np.flatnonzero(result.mask.any((1, 2)))
    assert kept.max() == 18
    assert kept.min() == np.flatnonzero(truth.any((1, 2))).min()
    assert "IoU 0.30" in result.stop_reasons["15:up"]


def test_a_second_box_reanchors_and_runs_meet_half_way():
    runs = {(r.key, r.step): (min(r.slices()), max(r.slices())) for r in
            plan_runs([10, 20], 30, None)}
    assert runs == {(10, -1): (0, 9), (10, 1): (11, 15), (20, -1): (16, 19), (20, 1): (21, 29)}

    truth = ellipsoid(shape=(30, 64, 64))
    # A second, disjoint object on slices 20..25 only reachable through its own box.
    truth[20:26, 5:12, 5:12] = True
    predictor = OraclePredictor(truth)
    result = propagate(predictor, truth.shape, SPACING,
                       [(15, key_box(truth, 15)), (23, (5, 5, 11, 11))], SegmentOptions())
    assert result.key_slices == [15, 23]
    assert result.mask[20:26, 5:12, 5:12].all()
    assert result.mask[19].sum() == truth[19].sum()  # slice 19 still belongs to key 15


def test_progress_is_monotonic_and_ends_at_the_number_of_slices():
    truth = ellipsoid()
    seen = []
    propagate(OraclePredictor(truth), truth.shape, SPACING, [(15, key_box(truth, 15))],
              SegmentOptions(max_distance=3), progress=lambda done, total: seen.append(
                  (done, total)))
    assert all(total == 30 for _, total in seen)
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)
    assert seen[-1] == (30, 30)


def test_cancelling_stops_without_a_result():
    truth = ellipsoid()
    predictor = OraclePredictor(truth)
    with pytest.raises(SegmentationCancelled):
        propagate(predictor, truth.shape, SPACING, [(15, key_box(truth, 15))],
                  SegmentOptions(), cancelled=lambda: len(predictor.calls) >= 3)
    assert len(predictor.calls) == 3


def test_largest_component_and_hole_filling_are_options():
    truth = ellipsoid()
    truth[15, 30:34, 30:34] = False  # a hole
    truth[14:17, 2:5, 2:5] = True  # a speck inside the grown box's reach
    predictor = OraclePredictor(truth)
    box = (2, 2, 50, 60)
    plain = propagate(predictor, truth.shape, SPACING, [(15, box)], SegmentOptions())
    cleaned = propagate(predictor, truth.shape, SPACING, [(15, box)],
                        SegmentOptions(largest_component=True, fill_holes=True))
    assert plain.mask[15, 2:5, 2:5].all() and not plain.mask[15, 31, 31]
    assert not cleaned.mask[:, 2:5, 2:5].any() and cleaned.mask[15, 31, 31]


def test_a_prompt_on_a_slice_outside_the_volume_is_refused():
    truth = ellipsoid()
    with pytest.raises(ValueError, match="slice 30 is out of range"):
        propagate(OraclePredictor(truth), truth.shape, SPACING, [(30, (1, 1, 5, 5))],
                  SegmentOptions())


def test_grown_boxes_are_clipped_to_the_image():
    assert grow_box((1, 2, 60, 40), (5, 5), (50, 64)) == (0.0, 0.0, 63.0, 45.0)


class BetweenPredictor(OraclePredictor):
    """Like the model on two parts under one box: a box around more than one part of the
    truth returns the whole box (the tissue between them), one part returns that part."""

    def __call__(self, index, box):
        from scipy import ndimage

        self.calls.append((index, tuple(box)))
        x0, y0, x1, y1 = (int(round(v)) for v in box)
        inside = np.zeros_like(self.truth[index])
        inside[y0:y1 + 1, x0:x1 + 1] = self.truth[index, y0:y1 + 1, x0:x1 + 1]
        if ndimage.label(inside)[1] > 1:
            inside[y0:y1 + 1, x0:x1 + 1] = True
        return Prediction(mask=inside, iou=0.9)


def two_tubes(shape=(20, 64, 64)) -> np.ndarray:
    truth = np.zeros(shape, bool)
    truth[2:18, 10:20, 8:18] = True
    truth[2:18, 40:50, 44:54] = True
    return truth


def test_each_part_of_the_previous_mask_gets_its_own_box():
    truth = two_tubes()
    prompts = [(10, key_box(truth[:, :32, :32], 10)), (10, (44, 40, 53, 49))]
    parted = propagate(BetweenPredictor(truth), truth.shape, SPACING, prompts,
                       SegmentOptions(min_area_mm2=0.0))
    one_box = propagate(BetweenPredictor(truth), truth.shape, SPACING, prompts,
                        SegmentOptions(min_area_mm2=0.0, component_boxes=False))
    np.testing.assert_array_equal(parted.mask.astype(bool), truth)
    assert one_box.mask.sum() > 3 * truth.sum()  # the box around both took what lies between


def test_a_run_that_stops_early_between_two_key_slices_leaves_the_gap_to_the_other():
    truth = np.zeros((30, 64, 64), bool)
    truth[2:28, 20:40, 20:40] = True
    asked: set[int] = set()

    def iou(index):  # the first prediction of slice 17 looks bad, a second one is fine
        first = index == 17 and index not in asked
        asked.add(index)
        return 0.2 if first else 0.9

    result = propagate(OraclePredictor(truth, iou), truth.shape, SPACING,
                       [(5, key_box(truth, 5)), (20, key_box(truth, 20))],
                       SegmentOptions(min_area_mm2=0.0))
    assert "IoU" in result.stop_reasons["20:down"]
    assert "5:up+" in result.stop_reasons  # the run from slice 5 walked on past half-way
    np.testing.assert_array_equal(result.mask.astype(bool), truth)


def test_largest_component_keeps_what_grew_from_every_prompt():
    truth = np.zeros((30, 64, 64), bool)
    truth[2:12, 20:40, 20:40] = True
    truth[16:28, 22:38, 22:38] = True  # a second, unconnected run: not a stray blob
    result = propagate(OraclePredictor(truth), truth.shape, SPACING,
                       [(6, key_box(truth, 6)), (22, key_box(truth, 22))],
                       SegmentOptions(min_area_mm2=0.0, largest_component=True))
    np.testing.assert_array_equal(result.mask.astype(bool), truth)


def overrunning_tube(shape=(30, 64, 64)) -> np.ndarray:
    """A tube over slices 5..24 standing in for what the model sees: the structure itself
    covers only 10..19, the rest is tissue beside it that the model would walk on into."""
    truth = np.zeros(shape, bool)
    truth[5:25, 24:40, 24:40] = True
    return truth


def test_propagation_never_runs_past_the_marked_first_and_last_slice():
    seen = overrunning_tube()
    predictor = OraclePredictor(seen)
    result = propagate(predictor, seen.shape, SPACING, [(15, key_box(seen, 15))],
                       SegmentOptions(min_area_mm2=0.0, extent=(10, 19)))
    covered = np.flatnonzero(result.mask.any(axis=(1, 2)))
    assert (covered[0], covered[-1]) == (10, 19)
    assert all(10 <= index <= 19 for index, _ in predictor.calls)
    assert result.stop_reasons == {"15:down": "reached the end of its range",
                                   "15:up": "reached the end of its range"}


def test_the_extent_bounds_runs_from_every_key_slice_and_the_gap_walk():
    assert plan_runs([12, 16], 30, None, extent=(10, 19)) == [
        Run(12, -1, 10), Run(12, +1, 14), Run(16, -1, 15), Run(16, +1, 19)]
    assert plan_runs([10], 30, 3, extent=(10, 19)) == [Run(10, +1, 13)]


def test_a_prompt_outside_the_marked_extent_or_an_extent_outside_the_volume_is_refused():
    seen = overrunning_tube()
    with pytest.raises(ValueError, match="outside the marked extent 10..19"):
        propagate(OraclePredictor(seen), seen.shape, SPACING, [(22, key_box(seen, 22))],
                  SegmentOptions(extent=(10, 19)))
    with pytest.raises(ValueError, match="within the volume's slices 0..29"):
        propagate(OraclePredictor(seen), seen.shape, SPACING, [(15, key_box(seen, 15))],
                  SegmentOptions(extent=(10, 30)))
    with pytest.raises(ValueError, match="first <= last"):
        SegmentOptions(extent=(12, 11))
