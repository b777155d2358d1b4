"""The standard prompt an entry asks for, derived from a reference mask, and the simulated
corrections the propagation bench makes."""
import numpy as np
import pytest

from model.protocol import (
    asks_extent,
    extent_tolerance_mm,
    jittered,
    jittered_extent,
    key_slice,
    reference_box,
    segment_options,
    standard_extent,
    standard_prompts,
    worst_slice,
)

CONTENT = {"dimensions": 3, "interaction": {"tool": "box"},
           "propagation": {"max_extent_mm": 30}, "postprocessing": {"fill_holes": True}}


def blob() -> np.ndarray:
    mask = np.zeros((5, 20, 30), bool)
    mask[1, 5:8, 10:12] = True
    mask[2, 4:12, 8:20] = True  # the largest cross-section
    mask[3, 6:9, 9:14] = True
    return mask


def test_the_standard_prompt_is_the_tight_box_on_the_largest_slice():
    assert key_slice(blob()) == 2
    assert standard_prompts(CONTENT, blob()) == [(2, (8.0, 4.0, 19.0, 11.0))]
    with pytest.raises(ValueError, match="empty"):
        key_slice(np.zeros((3, 4, 4), bool))
    with pytest.raises(ValueError, match="unsupported interaction tool"):
        standard_prompts({"interaction": {"tool": "lasso"}}, blob())


def test_jitter_moves_each_edge_within_the_tolerance_and_stays_in_the_image():
    rng = np.random.default_rng(0)
    box = (8.0, 4.0, 19.0, 11.0)
    moves = []
    for _ in range(200):
        moved = jittered(box, 3.0, (1.5, 0.75), (20, 30), rng)
        x0, y0, x1, y1 = moved
        assert 0 <= x0 < x1 <= 29 and 0 <= y0 < y1 <= 19
        moves.append(np.subtract(moved, box))
    moves = np.abs(moves)
    assert moves[:, [0, 2]].max() <= 3.0 / 0.75 + 1e-9  # columns are 0.75 mm
    assert moves[:, [1, 3]].max() <= 3.0 / 1.5 + 1e-9  # rows are 1.5 mm
    assert moves.mean() > 0.5, "a jitter that never moves measures nothing"
    assert jittered(box, 3.0, (1.5, 0.75), (20, 30), np.random.default_rng(4)) == \
        jittered(box, 3.0, (1.5, 0.75), (20, 30), np.random.default_rng(4))


def test_the_correction_goes_where_the_draft_is_most_wrong_on_the_reference():
    reference = blob()
    draft = reference.copy()
    draft[3] = False  # 15 voxels missed
    draft[1, 0:10, 0:10] = True  # 100 - 6 voxels too many, on a slice the reference covers
    draft[4, 0:10, 0:10] = True  # more, but the reference is absent there: no box can say so
    assert worst_slice(draft, reference) == 1
    assert worst_slice(draft, reference, exclude={1}) == 3
    assert worst_slice(reference, reference) is None
    assert reference_box(reference[3]) == (9.0, 6.0, 13.0, 8.0)


def test_options_follow_the_entry():
    options = segment_options(CONTENT, 3.0)
    assert options.max_distance == 10 and options.fill_holes and not options.largest_component
    assert segment_options({**CONTENT, "dimensions": 2}, 3.0).max_distance == 0
    assert segment_options({"dimensions": 3}, 3.0).max_distance is None


EXTENT_CONTENT = {**CONTENT, "interaction": {"tool": "box", "extent": "required",
                                             "extent_tolerance_mm": 3}}


def test_the_standard_prompt_of_an_extent_protocol_includes_the_first_and_last_slice():
    assert standard_extent(EXTENT_CONTENT, blob()) == (1, 3)
    assert standard_extent(CONTENT, blob()) is None
    assert asks_extent(EXTENT_CONTENT) and not asks_extent(CONTENT)
    assert extent_tolerance_mm(EXTENT_CONTENT) == 3.0
    options = segment_options(EXTENT_CONTENT, 2.0, (1, 3))
    assert options.extent == (1, 3) and options.max_distance == 15
    assert segment_options(EXTENT_CONTENT, 2.0).extent is None


def test_end_slice_jitter_is_seeded_within_the_tolerance_and_keeps_the_key_slices_inside():
    draws = [jittered_extent((10, 20), 3.0, 1.0, 30, [12, 18], np.random.default_rng(seed))
             for seed in range(200)]
    assert all(7 <= first <= 12 and 18 <= last <= 23 for first, last in draws)
    assert {first for first, _ in draws} == {7, 8, 9, 10, 11, 12}
    assert len({last for _, last in draws}) > 3
    rng_a, rng_b = np.random.default_rng(4), np.random.default_rng(4)
    assert jittered_extent((10, 20), 3, 1, 30, [15], rng_a) == jittered_extent(
        (10, 20), 3, 1, 30, [15], rng_b)
    # Kept inside the volume; a tolerance under half a slice leaves the ends where they are.
    assert all(0 <= first and last <= 21 for first, last in (
        jittered_extent((1, 20), 6.0, 1.0, 22, [5], np.random.default_rng(s)) for s in range(50)))
    assert jittered_extent((10, 20), 1.0, 3.0, 30, [15], np.random.default_rng(0)) == (10, 20)
