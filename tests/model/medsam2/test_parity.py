"""Our SAM 2 against the official code (sam2==1.1.0), identical random weights, fp32 CPU.

Checked for the SAM 2.0 and 2.1 tiny configurations: image-encoder features,
single-image masks from a box and from a click, and a propagation over six
slices from a box on slice 2, forward, then (after a reset and the same box)
in reverse, as bowang-lab runs 3D volumes.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from oracle import build_oracle, image_predictor, oracle_video_state, randomise
from volumes import smooth_volume

from model.medsam2.config import ModelConfig
from model.medsam2.frames import image_to_model, prompt_points
from model.medsam2.model import MedSAM2Model
from model.medsam2.video import VolumePredictor

TOLERANCE = 1e-4
VERSIONS = ("2.0", "2.1")


def twin(version: str, image_size: int, video: bool = False):
    """(oracle, ours) with the same seeded random weights."""
    reference = build_oracle(version, image_size, video=video)
    randomise(reference, seed=11)
    ours = MedSAM2Model(ModelConfig("tiny", version, image_size)).eval()
    ours.load_state_dict(reference.state_dict(), strict=True)
    return reference, ours


def max_diff(a: torch.Tensor, b: torch.Tensor) -> float:
    assert a.shape == b.shape, (a.shape, b.shape)
    return (a.float() - b.float()).abs().max().item()


@pytest.mark.parametrize(("version", "image_size"), [("2.0", 256), ("2.1", 512)])
def test_it_matches_the_image_encoder_features(version, image_size):
    reference, ours = twin(version, image_size)
    image = image_to_model(smooth_volume(1, image_size, image_size)[0], image_size)[None]
    with torch.inference_mode():
        expected = reference.forward_image(image)
        features = ours.encode_image(image)
    assert max_diff(features.vision, expected["backbone_fpn"][-1]) < TOLERANCE
    assert max_diff(features.vision_pos, expected["vision_pos_enc"][-1]) < TOLERANCE
    assert max_diff(features.high_res[0], expected["backbone_fpn"][0]) < TOLERANCE
    assert max_diff(features.high_res[1], expected["backbone_fpn"][1]) < TOLERANCE
    assert features.vision.shape == (1, 256, image_size // 16, image_size // 16)


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize(("box", "clicks"), [
    ((60.0, 70.0, 190.0, 200.0), None),
    (None, [(120.0, 130.0, 1)]),
    ((60.0, 70.0, 190.0, 200.0), [(120.0, 130.0, 1), (70.0, 80.0, 0)]),
])
def test_it_matches_single_image_masks(version, box, clicks):
    reference, ours = twin(version, 256)
    plane = smooth_volume(1, 256, 256, seed=3)[0]
    image = image_to_model(plane, 256)
    predictor = image_predictor(reference)
    predictor.set_image(image.permute(1, 2, 0).numpy())
    multimask = box is None and len(clicks) == 1
    expected_masks, expected_iou, _ = predictor.predict(
        point_coords=np.array([c[:2] for c in clicks], np.float32) if clicks else None,
        point_labels=np.array([c[2] for c in clicks]) if clicks else None,
        box=np.array(box, np.float32) if box else None,
        multimask_output=multimask, return_logits=True,
    )
    with torch.inference_mode():
        features = ours.encode_image(image[None])
        heads = ours.sam_heads(ours.without_memory(features), features.high_res,
                               prompt_points((256, 256), 256, box, clicks), multimask=multimask)
    assert (heads.object_score_logits > 0).all()
    masks = torch.nn.functional.interpolate(heads.low_res_multimasks, size=(256, 256),
                                            mode="bilinear", align_corners=False)[0]
    assert masks.shape[0] == (3 if multimask else 1)
    assert max_diff(masks, torch.from_numpy(expected_masks)) < TOLERANCE
    assert max_diff(heads.ious[0], torch.from_numpy(expected_iou)) < TOLERANCE
    assert masks.std() > 0.01  # a varying mask, not a constant


def reference_propagation(predictor, frames, shape, key, box):
    state = oracle_video_state(predictor, frames, *shape)
    predictor.add_new_points_or_box(state, frame_idx=key, obj_id=1, box=np.array(box))
    forward = {f: m[0, 0] for f, _, m in predictor.propagate_in_video(state)}
    predictor.reset_state(state)
    predictor.add_new_points_or_box(state, frame_idx=key, obj_id=1, box=np.array(box))
    backward = {f: m[0, 0] for f, _, m in predictor.propagate_in_video(state, reverse=True)}
    return forward, backward


@pytest.mark.parametrize("version", VERSIONS)
def test_it_matches_a_propagation_forward_and_backward(version):
    reference, ours = twin(version, 256, video=True)
    shape, key, box = (200, 240), 2, (70.0, 50.0, 170.0, 140.0)
    volume = smooth_volume(6, *shape, seed=4)
    frames = torch.stack([image_to_model(plane, 256) for plane in volume])
    expected_forward, expected_backward = reference_propagation(
        reference, frames, shape, key, box)

    predictor = VolumePredictor(ours, frames, shape, fill_hole_area=0)
    first = predictor.add_prompt(key, box=box)
    forward = {f: logits for f, logits, _ in predictor.propagate()}
    predictor.reset()
    predictor.add_prompt(key, box=box)
    backward = {f: logits for f, logits, _ in predictor.propagate(reverse=True)}

    assert sorted(forward) == sorted(expected_forward) == [2, 3, 4, 5]
    assert sorted(backward) == sorted(expected_backward) == [0, 1, 2]
    assert max_diff(first, expected_forward[key]) < TOLERANCE
    diffs = [max_diff(forward[f], expected_forward[f]) for f in forward]
    diffs += [max_diff(backward[f], expected_backward[f]) for f in backward]
    assert max(diffs) < TOLERANCE, diffs
    tracked = torch.stack([forward[5], backward[0]])
    assert (tracked > -1000).all() and tracked.std() > 0.01
