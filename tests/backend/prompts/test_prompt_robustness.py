"""Prompt perturbation within the template's tolerance, and the Dice stability it gives."""

import numpy as np
import pydicom
import pytest
from scipy import ndimage

from model.engines.base import Prediction, SegmentOptions
from prompts.robustness import (
    ReferenceCase,
    Tolerance,
    dice,
    perturb_box,
    perturb_point,
    result_agreement,
    robustness_score,
)
from prompts.source import read_library

CT_SPACING = (5.0, 0.661468, 0.661468)
AORTA_BOX = (71.0, 0.0, 110.0, 27.0)  # the descending aorta beside the vertebra in CT_small


def inside_the_box(volume):
    """A predictor that segments what lies above 0 inside each box, for ``propagate``."""
    def predict(index, box):
        x0, y0, x1, y1 = (int(round(v)) for v in box)
        mask = np.zeros(volume.shape[1:], bool)
        mask[y0:y1 + 1, x0:x1 + 1] = volume[index, y0:y1 + 1, x0:x1 + 1] > 0
        return Prediction(mask=mask, iou=0.9)

    return predict


def test_box_edges_move_at_most_the_tolerance_in_millimetres():
    rng = np.random.default_rng(1)
    box = (40.0, 50.0, 80.0, 90.0)
    shift = Tolerance(2.0, "mm").in_pixels(box, (0.5, 0.8))
    assert shift == pytest.approx((2.5, 4.0))
    moved = [perturb_box(box, shift, (128, 128), rng) for _ in range(200)]
    offsets = np.abs(np.array(moved) - np.array(box))
    assert offsets[:, [0, 2]].max() <= 2.5 and offsets[:, [1, 3]].max() <= 4.0
    assert offsets.max() > 2.0  # the whole range is used, not a token jitter


def test_a_percent_tolerance_scales_with_the_box_and_boxes_stay_inside_the_image():
    assert Tolerance(10, "percent").in_pixels((0, 0, 200, 50), (1, 1)) == (20, 5)
    rng = np.random.default_rng(2)
    for _ in range(100):
        x0, y0, x1, y1 = perturb_box((0, 0, 5, 5), (8, 8), (32, 32), rng)
        assert 0 <= x0 < x1 <= 31 and 0 <= y0 < y1 <= 31
        x, y = perturb_point((1, 1), (3, 3), (32, 32), rng)
        assert 0 <= x <= 4 and 0 <= y <= 4


def test_dice():
    a = np.zeros((4, 4), bool)
    b = a.copy()
    assert dice(a, b) == 1.0
    a[:2], b[1:3] = True, True
    assert dice(a, b) == pytest.approx(0.5)
    with pytest.raises(ValueError):
        dice(a, np.zeros((2, 2)))


def threshold_segmenter(image, low):
    """Everything above ``low`` inside the box: a real, prompt-sensitive segmenter."""

    def segment(box):
        mask = np.zeros(image.shape, bool)
        x0, y0, x1, y1 = (int(round(v)) for v in box)
        mask[y0:y1 + 1, x0:x1 + 1] = image[y0:y1 + 1, x0:x1 + 1] > low
        return mask

    return segment


def test_agreement_flags_a_result_that_depends_on_where_the_box_was_drawn():
    image = np.zeros((64, 64))
    image[20:40, 20:40] = 1.0  # an object with empty margins: a loose box changes nothing
    one_box = threshold_segmenter(image, 0.5)

    def segment(boxes):
        return np.logical_or.reduce([one_box(b) for b in boxes])

    box = (16.0, 16.0, 44.0, 44.0)
    stable = result_agreement(segment, [box], one_box(box), Tolerance(3, "px"), (1, 1), (64, 64),
                              samples=6, min_dice=0.9, seed=3)
    assert stable.mean == 1.0 and not stable.flagged
    image[:, :] = 1.0  # no edges at all: the mask is the box, so every shift shows
    unstable = result_agreement(segment, [box], one_box(box), Tolerance(6, "px"), (1, 1),
                                (64, 64), samples=6, min_dice=0.9, seed=3)
    assert unstable.mean < 0.9 and unstable.flagged


def ct_small_slice():
    ds = pydicom.dcmread(pydicom.data.get_testdata_file("CT_small.dcm"))
    return ds.pixel_array.astype(np.float32) * float(ds.RescaleSlope) + float(
        ds.RescaleIntercept)


def aorta_truth(image):
    """The contrast-filled aorta: the connected region of 100-400 HU at the box centre."""
    labels, _ = ndimage.label((image > 100) & (image < 400))
    truth = labels == labels[12, 90]
    assert 400 < truth.sum() < 1000
    return truth[None]


@pytest.fixture(scope="module")
def litemedsam():
    from model.engines.registry import get_engine

    return get_engine("litemedsam")


@pytest.mark.django_db
def test_robustness_score_on_a_real_ct_slice(litemedsam, sites):
    from prompts.actions import do_load_library, do_record_robustness
    from prompts.models import PromptVersion

    entries, _ = read_library()
    aorta = entries["aorta-ct.yaml"]
    image = ct_small_slice()
    case = ReferenceCase("CT_small aorta", image[None], CT_SPACING, 0, AORTA_BOX,
                         aorta_truth(image))
    window = (aorta["image"]["window"]["level"], aorta["image"]["window"]["width"])
    template = robustness_score(litemedsam, [case], Tolerance.from_entry(aorta), samples=8,
                                window=window, modality="CT", seed=0)
    careless = robustness_score(litemedsam, [case], Tolerance(10, "mm"), samples=8,
                                window=window, modality="CT", seed=0)
    summary = template.as_dict()
    assert summary["runs"] == 8
    assert summary["truth_dice_mean"] > 0.8  # the unperturbed prompt finds the aorta
    assert summary["dice_mean"] > 0.85 and summary["dice_p5"] > 0.6
    assert careless.mean < template.mean  # prompts moved further give less stable results

    do_load_library(sites["home"], {"aorta-ct.yaml": aorta})
    version = PromptVersion.objects.get(entry__key="aorta-ct", state="approved")
    run = do_record_robustness(None, version, template, engine=litemedsam.name,
                               weights_sha256=litemedsam.weights_sha256,
                               cases=[case.name], seed=0)
    assert (run.dice_mean, run.dice_p5, run.tolerance) == (
        summary["dice_mean"], summary["dice_p5"], "2 mm")
    assert run.weights_sha256 == aorta["engine"]["weights_sha256"]


def test_the_score_follows_a_protocol_of_several_key_slices_and_a_box_per_part():
    from model.propagation import propagate

    truth = np.zeros((12, 40, 40), bool)
    truth[1:11, 4:12, 4:12] = True
    truth[1:11, 24:34, 24:34] = True
    truth[5, 12, 4:12] = True  # slice 5 is the largest cross-section
    image = np.where(truth, 1000.0, -1000.0)
    asked = []

    class Engine:  # what lies above the threshold inside each box, propagated for real
        def segment_volume(self, volume, spacing, prompts, window, modality, options=None):
            asked.append(sorted(prompts))

            return propagate(inside_the_box(volume), volume.shape, spacing, prompts, options)

    content = {"interaction": {"tool": "box", "count": 9, "count_min": 3, "boxes_per_part": True,
                               "slice": "largest_and_quarters",
                               "tolerance": {"value": 1, "unit": "px"}},
               "postprocessing": {}, "propagation": {}}
    case = ReferenceCase("two parts", image, (3.0, 1.0, 1.0), 5, (4, 4, 33, 33), truth)
    stability = robustness_score(Engine(), [case], Tolerance(1, "px"), samples=3,
                                 content=content)
    first = asked[0]
    assert sorted({index for index, _ in first}) == [3, 5, 8]  # largest, a quarter in each way
    assert len(first) == 6  # a box around each of the two parts on each slice
    assert stability.accuracy[0] > 0.95 and len(stability.dices) == 3


def test_the_score_of_an_extent_protocol_marks_the_ends_and_moves_them_within_their_tolerance():
    from model.propagation import propagate

    truth = np.zeros((20, 40, 40), bool)
    truth[5:15, 10:30, 10:30] = True
    image = np.where(truth, 1000.0, -1000.0)
    image[:, 10:30, 10:30] = 1000.0  # the model would walk on past the structure's ends
    ends = []

    class Engine:
        def segment_volume(self, volume, spacing, prompts, window, modality, options=None):
            options = options or SegmentOptions()
            ends.append(options.extent)

            return propagate(inside_the_box(volume), volume.shape, spacing, prompts, options)

    content = {"interaction": {"tool": "box", "count": 1, "slice": "largest_cross_section",
                               "extent": "required", "extent_tolerance_mm": 6,
                               "tolerance": {"value": 1, "unit": "px"}},
               "postprocessing": {}, "propagation": {}}
    case = ReferenceCase("a tube", image, (3.0, 1.0, 1.0), 9, (10, 10, 29, 29), truth)
    stability = robustness_score(Engine(), [case], Tolerance(1, "px"), samples=12,
                                 content=content, seed=5)
    assert ends[0] == (5, 14)  # the unperturbed run: the reference's first and last slice
    assert stability.accuracy == [1.0]
    moved = ends[1:]
    assert all(3 <= first <= 7 and 12 <= last <= 16 for first, last in moved)  # +-2 slices
    assert len(set(moved)) > 3 and min(stability.dices) < 1.0
    ends_before, ends[:] = list(ends), []  # the same seed moves them the same way
    robustness_score(Engine(), [case], Tolerance(1, "px"), samples=12, content=content, seed=5)
    assert ends == ends_before
    # Without the entry's protocol (no content) the case is run as given, no extent.
    ends[:] = []
    robustness_score(Engine(), [case], Tolerance(1, "px"), samples=1)
    assert ends == [None, None]
