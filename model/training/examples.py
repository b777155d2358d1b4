"""Training examples: one 2D slice in [0, 1] with its confirmed mask, and where it came from."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class TrainingExample:
    """A normalised (rows, cols) image, its boolean mask, and its origin.

    group: the patient the slice belongs to; a split keeps a group on one side.
    source: a stable name of the slice (e.g. ``result 12 slice 40``) for reports.
    spacing_yx: pixel spacing in mm, for tolerances given in mm.
    """

    image: np.ndarray
    mask: np.ndarray
    spacing_yx: tuple[float, float]
    group: str
    source: str

    def __post_init__(self) -> None:
        if self.image.ndim != 2 or self.image.shape != self.mask.shape:
            raise ValueError(
                f"{self.source}: image {self.image.shape} and mask {self.mask.shape} must be the "
                "same (rows, cols) shape"
            )
        if not np.asarray(self.mask).any():
            raise ValueError(f"{self.source}: the mask is empty; there is nothing to learn from")


def data_sha256(examples: Sequence[TrainingExample]) -> str:
    """sha256 over every example's source, image and mask bytes, in order."""
    digest = hashlib.sha256()
    for example in examples:
        digest.update(example.source.encode())
        digest.update(np.ascontiguousarray(example.image, np.float32).tobytes())
        digest.update(np.packbits(np.asarray(example.mask, bool)).tobytes())
    return digest.hexdigest()


def _hash_value(group: str, salt: str) -> float:
    return int(hashlib.sha256(f"{salt}:{group}".encode()).hexdigest()[:12], 16) / float(16**12)


def split_side(group: str, salt: str, validation_fraction: float) -> str:
    """'train' or 'validation' for a group, from a hash: the same inputs always agree."""
    if not 0 < validation_fraction < 1:
        raise ValueError("validation_fraction must lie strictly between 0 and 1")
    return "validation" if _hash_value(group, salt) < validation_fraction else "train"


def split_groups(
    groups: Sequence[str],
    salt: str,
    validation_fraction: float,
    fixed: dict[str, str] | None = None,
) -> dict[str, str]:
    """Each group's side. Groups in `fixed` keep theirs (a split never changes once used).
    When a side would be empty and the other has a group to spare, the free group whose
    hash lies nearest the threshold moves over, so both sides are used."""
    fixed = fixed or {}
    sides = {g: fixed.get(g) or split_side(g, salt, validation_fraction) for g in set(groups)}
    by_hash = sorted((g for g in sides if g not in fixed), key=lambda g: _hash_value(g, salt))
    for side, other, order in (("validation", "train", by_hash), ("train", "validation",
                                                                   by_hash[::-1])):
        members = [g for g in sides if sides[g] == other]
        if side not in sides.values() and len(members) > 1:
            movable = [g for g in order if sides[g] == other]
            if movable:
                sides[movable[0]] = side
    return dict(sorted(sides.items()))
