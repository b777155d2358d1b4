"""Landmarks of the real head CT (Cranium.inv3) found from its HU values alone, in patient
coordinates (LPS mm: +x left, +y posterior, +z head) through a volume's affine, so a test can
check where the anatomy lies whatever the index order of the volume.

- eyes: the two vitreous globes, round fluid regions (-20..45 HU, 150-900 voxels in a slice)
  partly ringed by orbital fat (-200..-30 HU), side by side 45-75 mm apart;
- teeth: enamel, above 2000 HU;
- head rest: tissue-dense voxels outside the opened head (the thin arc the head lies on);
- head: the largest region above -300 HU after an opening (which drops the head rest).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from model.imaging import Volume


@dataclass(frozen=True)
class Landmarks:
    eyes: tuple[np.ndarray, np.ndarray]  # LPS centres, patient right (smaller x) first
    teeth: np.ndarray | None  # None when the volume holds no teeth
    head_rest: np.ndarray
    head: np.ndarray


def _to_patient(volume: Volume, kji: np.ndarray) -> np.ndarray:
    k, j, i = kji
    return (volume.affine @ np.array([i, j, k, 1.0]))[:3]


def _globes(volume: Volume) -> list[tuple[int, float, float]]:
    col_mm, row_mm, _ = volume.spacing
    pixel_mm2 = col_mm * row_mm
    found = []
    for k, image in enumerate(volume.voxels):
        fluid = ndimage.binary_opening((image > -20) & (image < 45))
        labels, _ = ndimage.label(fluid)
        for index, box in enumerate(ndimage.find_objects(labels), start=1):
            if box is None:
                continue
            region = labels[box] == index
            area_mm2 = region.sum() * pixel_mm2
            if not 140 < area_mm2 < 820:
                continue
            height_mm = region.shape[0] * row_mm
            width_mm = region.shape[1] * col_mm
            if area_mm2 / (np.pi * max(height_mm, width_mm) ** 2 / 4) < 0.55:
                continue  # not round
            whole = labels == index
            ring = ndimage.binary_dilation(whole, iterations=3) & ~whole
            if np.mean((image[ring] > -200) & (image[ring] < -30)) < 0.15:
                continue  # not ringed by fat
            j, i = ndimage.center_of_mass(whole)
            found.append((k, float(j), float(i)))
    return found


def _eye_pair(volume: Volume) -> tuple[np.ndarray, np.ndarray]:
    globes = [_to_patient(volume, np.array(g)) for g in _globes(volume)]
    pairs = [
        (a, b)
        for n, a in enumerate(globes)
        for b in globes[n + 1:]
        if 45 < abs(a[0] - b[0]) < 75 and abs(a[1] - b[1]) < 10 and abs(a[2] - b[2]) < 4
    ]
    if not pairs:
        raise AssertionError("no pair of eyes found in the volume")
    rights = [min(p, key=lambda c: c[0]) for p in pairs]
    lefts = [max(p, key=lambda c: c[0]) for p in pairs]
    return np.mean(rights, axis=0), np.mean(lefts, axis=0)


def _centre(volume: Volume, mask: np.ndarray) -> np.ndarray:
    return _to_patient(volume, np.array(ndimage.center_of_mass(mask)))


def head_landmarks(volume: Volume) -> Landmarks:
    voxels = volume.voxels
    opened = ndimage.binary_opening(voxels > -300, iterations=2)
    labels, _ = ndimage.label(opened)
    sizes = np.bincount(labels.ravel())
    sizes[0] = 0
    head = labels == sizes.argmax()
    rest = (voxels > -300) & ~ndimage.binary_dilation(head, iterations=3)
    return Landmarks(
        eyes=_eye_pair(volume),
        teeth=_centre(volume, voxels > 2000) if (voxels > 2000).any() else None,
        head_rest=_centre(volume, rest),
        head=_centre(volume, head),
    )
