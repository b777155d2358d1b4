"""Correcting a draft in one action, with a stand-in predictor that knows the true object:
only the affected run of slices changes, the rest of the draft stays."""

from __future__ import annotations

import numpy as np
import pytest

from model.correction import REACH, correct
from model.engines.base import Prediction, SegmentationCancelled, SegmentOptions
from tests.model.test_propagation import SPACING, ellipsoid, key_box

OPTIONS = SegmentOptions(min_area_mm2=0.0)


class Oracle:
    """The truth inside the box; negative points cut a 3-pixel square out. Records calls."""

    def __init__(self, truth):
        self.truth = truth
        self.calls: list[int] = []

    def __call__(self, index, box, points=None):
        self.calls.append(index)
        x0, y0, x1, y1 = (int(round(v)) for v in box)
        mask = np.zeros_like(self.truth[index])
        mask[y0:y1 + 1, x0:x1 + 1] = self.truth[index, y0:y1 + 1, x0:x1 + 1]
        for x, y, label in points or ():
            if label == 0:
                mask[int(y) - 1:int(y) + 2, int(x) - 1:int(x) + 2] = False
        return Prediction(mask=mask, iou=0.9)


def test_a_draft_that_stopped_half_way_is_completed_from_a_box_on_a_missing_slice():
    truth = ellipsoid()  # slices 7..23
    draft = truth.copy()
    draft[17:] = False  # the propagation stopped at slice 16
    predictor = Oracle(truth)
    result = correct(predictor, draft, SPACING, 20, [key_box(truth, 20)], None, OPTIONS,
                     anchors=[15])
    np.testing.assert_array_equal(result.mask.astype(bool), truth)
    assert (result.first, result.last) == (17, 23)
    assert "agrees with the draft at slice 16" in result.stop_reasons["down"]
    # Slices where the draft was right below the meeting point were never re-segmented.
    assert min(predictor.calls) == 16


def test_the_rest_of_the_draft_stays_exactly_as_it_was():
    truth = ellipsoid()
    draft = truth.copy()
    draft[8] = False  # a missed slice at one end ...
    draft[20, 10:20, 10:20] = True  # ... and a leak on another slice
    result = correct(Oracle(truth), draft, SPACING, 20, [key_box(truth, 20)], None, OPTIONS,
                     anchors=[15])
    np.testing.assert_array_equal(result.mask[20].astype(bool), truth[20])
    outside = [i for i in range(draft.shape[0]) if not result.first <= i <= result.last]
    assert 8 in outside
    np.testing.assert_array_equal(result.mask[outside].astype(bool), draft[outside])


def test_an_overrun_past_the_structures_end_is_cleared_up_to_the_next_key_slice():
    truth = ellipsoid()  # ends at slice 23
    draft = truth.copy()
    draft[23:28, 30:34, 30:34] = True  # the propagation ran on past the end
    # The user boxes a slice near the end: the walk corrects slice 23 and finds nothing on 24.
    result = correct(Oracle(truth), draft, SPACING, 22, [key_box(truth, 22)], None, OPTIONS,
                     anchors=[15], reach=None)
    np.testing.assert_array_equal(result.mask.astype(bool), truth)
    assert "cleared" in result.stop_reasons["up"]
    assert result.last == 27
    # By default at most REACH slices the draft covers change in each direction.
    near = correct(Oracle(truth), draft, SPACING, 22, [key_box(truth, 22)], None, OPTIONS,
                   anchors=[15])
    assert near.last == 22 + REACH and near.mask[22 + REACH + 1:].any()
    # Keeping the draft past the end is the other policy.
    kept = correct(Oracle(truth), draft, SPACING, 22, [key_box(truth, 22)], None, OPTIONS,
                   anchors=[15], clear_past_end=False)
    assert kept.mask[24:28].any()


def test_a_walk_never_crosses_another_key_slice_of_the_draft():
    truth = ellipsoid()
    draft = np.zeros_like(truth)
    draft[15] = truth[15]  # only the key slice; a correction at 20 walks down towards it
    draft[12] = truth[12]
    predictor = Oracle(truth)
    result = correct(predictor, draft, SPACING, 20, [key_box(truth, 20)], None, OPTIONS,
                     anchors=[15])
    assert 15 not in predictor.calls and min(predictor.calls) == 16
    assert result.first == 16
    np.testing.assert_array_equal(result.mask[12], draft[12])
    assert result.stop_reasons["down"] == "reached the next key slice"


def test_points_go_with_the_box_on_the_corrected_slice_only():
    truth = ellipsoid()
    seen = []

    def predict(index, box, points=None):
        seen.append((index, points))
        return Oracle(truth)(index, box, points)

    box = key_box(truth, 15)
    result = correct(predict, truth.copy(), SPACING, 15, [box], [(32, 32, 0)], OPTIONS)
    assert seen[0] == (15, [(32, 32, 0)])
    assert all(points is None for _, points in seen[1:])
    assert not result.mask[15, 32, 32]


@pytest.mark.parametrize("slice_index, box, points, message", [
    (30, (10, 10, 20, 20), None, "out of range"),
    (15, (20, 10, 10, 20), None, "x0 <= x1"),
    (15, (10, 10, 70, 20), None, "x0 <= x1"),
    (15, (10, 10, 20, 20), [(5, 5, 2)], "labels"),
    (15, (10, 10, 20, 20), [(99, 5, 1)], "outside"),
])
def test_a_malformed_prompt_is_refused_with_what_is_wrong(slice_index, box, points, message):
    truth = ellipsoid()
    with pytest.raises(ValueError, match=message):
        correct(Oracle(truth), truth.copy(), SPACING, slice_index, [box], points, OPTIONS)


@pytest.mark.parametrize("boxes, points, message", [
    ([], None, "1 to 3 boxes"),
    ([(10, 10, 20, 20)] * 4, None, "1 to 3 boxes"),
    ([(10, 10, 20, 20)] * 2, [(15, 15, 1)], "points go with one box"),
])
def test_boxes_per_part_without_points(boxes, points, message):
    truth = ellipsoid()
    with pytest.raises(ValueError, match=message):
        correct(Oracle(truth), truth.copy(), SPACING, 15, boxes, points, OPTIONS)


def test_a_box_per_part_corrects_a_slice_of_two_parts():
    truth = ellipsoid() | ellipsoid(centre=(15, 32, 56), radii=(8, 6, 5))
    draft = truth.copy()
    draft[15] = False
    boxes = [(18, 12, 46, 52), (51, 26, 61, 38)]
    result = correct(Oracle(truth), draft, SPACING, 15, boxes, None, OPTIONS)
    np.testing.assert_array_equal(result.mask.astype(bool), truth)


def test_a_box_that_finds_nothing_is_refused():
    truth = ellipsoid()
    with pytest.raises(ValueError, match="found nothing"):
        correct(Oracle(truth), truth.copy(), SPACING, 2, [(1, 1, 5, 5)], None, OPTIONS)


def test_a_correction_can_be_cancelled():
    truth = ellipsoid()
    with pytest.raises(SegmentationCancelled):
        correct(Oracle(truth), np.zeros_like(truth), SPACING, 15, [key_box(truth, 15)], None,
                OPTIONS, cancelled=lambda: True)


def test_reshaping_a_drawn_slice_does_not_walk_past_the_drafts_end():
    """The draft covers the slice the user corrects: its end is where its own walk stopped,
    and the correction re-segments within it instead of walking on into empty slices."""
    truth = ellipsoid()  # slices 7..23
    draft = truth.copy()
    draft[20:] = False
    draft[18:20, 10:40, 10:54] = True  # a leak on slices 18 and 19
    predictor = Oracle(truth)
    result = correct(predictor, draft, SPACING, 18, [key_box(truth, 18)], None, OPTIONS,
                     anchors=[15])
    np.testing.assert_array_equal(result.mask[18].astype(bool), truth[18])
    assert not result.mask[20:].any() and 20 not in predictor.calls
    assert result.stop_reasons["up"] == "the draft ends before slice 20"
    # Boxing a slice the draft missed walks on into the gap.
    filled = correct(Oracle(truth), draft, SPACING, 21, [key_box(truth, 21)], None, OPTIONS,
                     anchors=[15])
    np.testing.assert_array_equal(filled.mask[20:].astype(bool), truth[20:])


def test_a_walk_stays_within_the_marked_extent():
    """A correction inside the marked first..last slices fills the draft's gap up to the
    marked end and no further, though the structure goes on."""
    truth = ellipsoid()  # slices 7..23
    draft = truth.copy()
    draft[17:] = False
    predictor = Oracle(truth)
    result = correct(predictor, draft, SPACING, 18, [key_box(truth, 18)], None, OPTIONS,
                     anchors=[15], extent=(9, 20))
    assert not result.mask[21:].any() and max(predictor.calls) == 20
    np.testing.assert_array_equal(result.mask[17:21].astype(bool), truth[17:21])
    assert result.stop_reasons["up"] == "reached the marked end of the structure"
    assert result.extent == (9, 20)


def test_a_correction_outside_the_marked_extent_wins_and_moves_that_end_out_to_it():
    truth = ellipsoid()  # slices 7..23
    draft = truth.copy()
    draft[21:] = False  # the draft ends at the marked last slice 20
    predictor = Oracle(truth)
    result = correct(predictor, draft, SPACING, 22, [key_box(truth, 22)], None, OPTIONS,
                     anchors=[15], extent=(9, 20))
    assert result.extent == (9, 22)
    np.testing.assert_array_equal(result.mask[21:23].astype(bool), truth[21:23])
    assert not result.mask[23:].any() and 23 not in predictor.calls
    assert "agrees with the draft at slice 20" in result.stop_reasons["down"]
    # Without an extent the same correction walks on to the structure's end.
    free = correct(Oracle(truth), draft, SPACING, 22, [key_box(truth, 22)], None, OPTIONS,
                   anchors=[15])
    assert free.extent is None and free.mask[23].any()
