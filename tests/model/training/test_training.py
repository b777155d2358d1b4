"""The fine-tune on the real head CT's skull ring: it improves validation Dice over the
released weights, is reproducible, and its pieces (split, boxes, checkpoint) behave."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from model.preprocess import normalise_intensity
from model.training.checkpoint import load_trainable, save_state_dict
from model.training.embedded import TrainingCancelled, embed_examples
from model.training.evaluate import evaluate
from model.training.examples import TrainingExample, data_sha256, split_groups
from model.training.finetune import FineTuneConfig, fine_tune
from model.training.prompts import BoxTolerance, jittered_box, tight_box
from tests.model.training.skull import BONE_WINDOW, skull_mask

TRAIN_SLICES = (50, 70, 90)
VALIDATION_SLICES = (60, 80)
TOLERANCE = BoxTolerance(2, "mm")


def skull_example(head_ct, index: int) -> TrainingExample:
    hu = head_ct.hu[index]
    return TrainingExample(normalise_intensity(hu, "CT", BONE_WINDOW), skull_mask(hu),
                           head_ct.spacing_zyx[1:], f"slab {index // 20}", f"slice {index}")


@pytest.fixture(scope="module")
def embedded(head_ct):
    from model.engines.registry import get_engine

    engine = get_engine("litemedsam", "cpu")

    def encode(image):
        return engine.embed_slice(image).embedding

    train = embed_examples(encode, [skull_example(head_ct, i) for i in TRAIN_SLICES])
    validation = embed_examples(encode, [skull_example(head_ct, i) for i in VALIDATION_SLICES])
    return train, validation


def test_it_improves_validation_dice_on_the_skull_ring(embedded, weights_path):
    train, validation = embedded
    network = load_trainable(weights_path)
    before = evaluate(network, validation, TOLERANCE)
    config = FineTuneConfig(epochs=8, batch_size=3, learning_rate=3e-4, tolerance=TOLERANCE)
    report = fine_tune(network, train, config)
    after = evaluate(network, validation, TOLERANCE)
    assert before.as_dict()["dice_mean"] < 0.3
    assert after.as_dict()["dice_mean"] > before.as_dict()["dice_mean"] + 0.3
    assert report.trained_modules == ["mask_decoder"]
    fresh = load_trainable(weights_path)
    for name, value in network.state_dict().items():
        if name.startswith(("image_encoder.", "prompt_encoder.")):
            assert torch.equal(value, fresh.state_dict()[name]), name


def test_it_gives_the_same_weights_for_the_same_seed(embedded, weights_path):
    train, _ = embedded
    states = []
    for seed in (7, 7, 8):
        network = load_trainable(weights_path)
        fine_tune(network, train[:2], FineTuneConfig(epochs=1, batch_size=1, seed=seed,
                                                     tolerance=TOLERANCE))
        states.append(network.mask_decoder.state_dict())
    assert all(torch.equal(states[0][k], states[1][k]) for k in states[0])
    assert not all(torch.equal(states[0][k], states[2][k]) for k in states[0])


def test_it_stops_when_cancelled(embedded, weights_path):
    train, _ = embedded
    with pytest.raises(TrainingCancelled):
        fine_tune(load_trainable(weights_path), train, FineTuneConfig(), cancelled=lambda: True)


def test_it_saves_the_full_state_dict_under_its_sha256(tmp_path, weights_path):
    from model.weights import file_sha256

    path, sha256 = save_state_dict(load_trainable(weights_path), tmp_path)
    assert path.name == f"{sha256}.pth" and file_sha256(path) == sha256
    assert [p.name for p in tmp_path.iterdir()] == [path.name]
    assert set(torch.load(path, weights_only=True)) == set(
        torch.load(weights_path, weights_only=True))


def test_it_leaves_no_file_when_saving_fails(tmp_path, monkeypatch, weights_path):
    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", broken)
    with pytest.raises(OSError):
        save_state_dict(load_trainable(weights_path), tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_it_keeps_jittered_boxes_within_the_tolerance():
    mask = np.zeros((100, 120), bool)
    mask[20:60, 30:90] = True
    rng = np.random.default_rng(0)
    tight = np.array(tight_box(mask))
    for _ in range(50):
        box = np.array(jittered_box(mask, BoxTolerance(3, "px"), (1.0, 1.0), rng))
        assert np.abs(box - tight).max() <= 3 + 1e-6
    millimetres = np.array(jittered_box(mask, BoxTolerance(2, "mm"), (0.5, 0.5), rng))
    assert np.abs(millimetres - tight).max() <= 4 + 1e-6


def test_it_splits_by_patient_and_never_moves_a_placed_patient():
    patients = [f"P{i}" for i in range(12)]
    first = split_groups(patients, "home:skull:CT", 0.3)
    assert first == split_groups(list(reversed(patients)), "home:skull:CT", 0.3)
    assert set(first.values()) == {"train", "validation"}
    more = split_groups(patients + ["P12", "P13"], "home:skull:CT", 0.3, fixed=first)
    assert {p: more[p] for p in patients} == first
    assert set(split_groups(["A", "B"], "s", 0.01).values()) == {"train", "validation"}


def test_it_hashes_the_data_it_trains_on(head_ct):
    one, two = skull_example(head_ct, 50), skull_example(head_ct, 60)
    assert data_sha256([one, two]) == data_sha256([one, two])
    assert data_sha256([one, two]) != data_sha256([two, one])
