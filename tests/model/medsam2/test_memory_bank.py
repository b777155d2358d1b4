"""The self-sorting memory bank's insert, replacement and read rules on constructed memories."""

from __future__ import annotations

import math

import pytest
import torch

from model.medsam2.memory_bank import BankEntry, MemoryBank


def direction(angle_degrees: float, dims: int = 4) -> torch.Tensor:
    """A unit memory in the (e0, e1) plane at the given angle, shaped like a feature map."""
    vector = torch.zeros(dims)
    vector[0] = math.cos(math.radians(angle_degrees))
    vector[1] = math.sin(math.radians(angle_degrees))
    return vector.reshape(1, dims, 1, 1)


def entry(angle: float, confidence: float = 0.8, embedding_angle: float | None = None):
    embedding = direction(angle if embedding_angle is None else embedding_angle)
    return BankEntry(direction(angle), torch.zeros(1, 4, 1, 1), confidence, embedding)


def full_bank(angles, confidence=0.8) -> MemoryBank:
    bank = MemoryBank(capacity=len(angles))
    for angle in angles:
        assert bank.write(entry(angle, confidence)).action == "appended"
    return bank


def angles_of(bank: MemoryBank) -> list[float]:
    return [round(math.degrees(math.atan2(e.features[0, 1, 0, 0], e.features[0, 0, 0, 0])))
            for e in bank.entries]


def test_it_appends_until_full():
    bank = MemoryBank(capacity=3)
    outcomes = [bank.write(entry(a)).action for a in (0, 10, 20)]
    assert outcomes == ["appended"] * 3 and len(bank) == 3


def test_a_new_memory_replaces_the_redundant_neighbour_of_the_least_similar_entry():
    # Stored at 0, 5 and 90 degrees; new at 100. Least similar to new: 0 (i);
    # its nearest stored neighbour is 5 (j); sim(new, i) = cos 100 < sim(i, j) = cos 5.
    bank = full_bank([0, 5, 90])
    outcome = bank.write(entry(100, confidence=0.75))
    assert (outcome.action, outcome.index) == ("replaced", 1)
    assert angles_of(bank) == [0, 90, 100]


def test_a_much_less_confident_memory_is_rejected():
    bank = full_bank([0, 5, 90], confidence=0.9)
    assert bank.write(entry(100, confidence=0.79)).action == "rejected"
    assert angles_of(bank) == [0, 5, 90]
    # Within the 0.1 margin it is accepted.
    assert bank.write(entry(100, confidence=0.81)).action == "replaced"


def test_a_memory_that_would_not_add_diversity_is_rejected():
    # Stored 0 and 180 degrees, new at 90: i = 0 (ties go to the first), j = 180;
    # sim(new, i) = 0 is not below sim(i, j) = -1: dropping either loses more.
    bank = full_bank([0, 180])
    assert bank.write(entry(90, confidence=1.0)).action == "rejected"
    # A duplicate of a stored memory: sim(new, i) = cos 60 equals sim(i, j) = cos 60.
    bank = full_bank([0, 60, 120])
    assert bank.write(entry(60, confidence=1.0)).action == "rejected"
    assert angles_of(bank) == [0, 60, 120]


def test_the_deterministic_read_picks_the_most_similar_images():
    bank = MemoryBank(capacity=4)
    for angle in (0, 40, 80, 170):
        bank.write(entry(angle))
    picked = bank.read(direction(75), count=2, deterministic=True)
    chosen = [round(math.degrees(math.atan2(e.image_embedding[0, 1, 0, 0],
                                            e.image_embedding[0, 0, 0, 0]))) for e in picked]
    assert chosen == [80, 40]
    assert bank.read(direction(75), count=2, deterministic=True) == picked


def test_the_sampled_read_follows_the_softmax_of_similarity():
    bank = MemoryBank(capacity=2)
    bank.write(entry(0))
    bank.write(entry(180))
    generator = torch.Generator().manual_seed(0)
    draws = bank.read(direction(0), count=4000, generator=generator)
    share = sum(d is bank.entries[0] for d in draws) / len(draws)
    expected = math.exp(1) / (math.exp(1) + math.exp(-1))
    assert share == pytest.approx(expected, abs=0.03)


def test_reading_an_empty_bank_asks_for_a_prompt():
    with pytest.raises(RuntimeError, match="prompt an image first"):
        MemoryBank().read(direction(0))
