"""The result checks of a job under protocols with several key slices and a box per part:
the slice-rule flag and the inference-time agreement check."""
import numpy as np

from annotations.flags import agreement_on_key_slice, prompt_slice_flag
from model.engines.base import Prediction

SPACING = (3.0, 1.0, 1.0)
CONTENT = {
    "modality": "CT",
    "image": {"window": {"level": 40, "width": 400}},
    "interaction": {"tool": "box", "count": 9, "count_min": 3, "boxes_per_part": True,
                    "slice": "largest_and_quarters", "slice_tolerance_mm": 6,
                    "tolerance": {"value": 1, "unit": "px"}},
    "qa": {"agreement": {"samples": 4, "min_dice": 0.8}},
}


class ThresholdEngine:
    """Everything bright inside the box: what a good model does with a tight box."""

    def embed_slice(self, image):
        return image

    def predict_2d(self, image, box):
        x0, y0, x1, y1 = (int(round(v)) for v in box)
        mask = np.zeros(image.shape, bool)
        mask[y0:y1 + 1, x0:x1 + 1] = image[y0:y1 + 1, x0:x1 + 1] > 0.5
        return Prediction(mask=mask, iou=0.9)


def two_part_volume():
    voxels = np.full((10, 40, 40), -1000.0)
    voxels[2:9, 5:12, 5:12] = 1000.0  # two parts of one structure, apart on every slice
    voxels[2:9, 25:35, 25:35] = 1000.0
    return voxels, voxels > 0


def test_agreement_reruns_every_box_of_the_key_slice_not_only_the_first():
    voxels, mask = two_part_volume()
    prompts = [(3, (5, 5, 11, 11)), (5, (5, 5, 11, 11)), (5, (25, 25, 34, 34)),
               (7, (25, 25, 34, 34))]
    mask[3, 25:35, 25:35] = False  # slice 5 is where the result is largest: the key slice
    agreement = agreement_on_key_slice(ThresholdEngine(), voxels, CONTENT, prompts,
                                       mask.astype(np.uint8), SPACING)
    assert agreement.mean > 0.9 and not agreement.flagged  # one box alone would give 0.6


def test_the_slice_rule_flag_looks_at_the_prompted_slice_nearest_the_largest():
    _, mask = two_part_volume()
    mask[6, 0:3, 0:3] = True  # slice 6 is the largest cross-section
    near = [(2, (5, 5, 11, 11)), (5, (5, 5, 11, 11)), (8, (5, 5, 11, 11))]
    assert prompt_slice_flag(CONTENT, mask, near, SPACING) == []
    far = [(1, (5, 5, 11, 11)), (2, (5, 5, 11, 11)), (3, (5, 5, 11, 11))]
    (flag,) = prompt_slice_flag(CONTENT, mask, far, SPACING)
    assert flag["code"] == "prompt_off_template" and "slice 3, 9 mm" in flag["message"]
