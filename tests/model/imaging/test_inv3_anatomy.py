"""Where the anatomy of the real head CT lies (issue 19: it was shown upside down, the face
under the 'P' marker). Cranium.inv3 is Debian's invesalius-examples; without it these tests
skip, except under CI, where they fail."""
from __future__ import annotations

import numpy as np
import pytest

from model.imaging import assemble_volume, volume_to_datasets
from model.imaging.geometry import orientation_established
from model.imaging.inv3 import read_inv3
from model.imaging.volume import closest_to_lps
from tests.model.head_ct import require_cranium
from tests.model.imaging.head_anatomy import head_landmarks

# LPS: +y is posterior, +z is the head.
POSTERIOR, SUPERIOR = 1, 2


@pytest.fixture(scope="module")
def cranium():
    return read_inv3(require_cranium())


def assert_head_anatomy(volume) -> None:
    marks = head_landmarks(volume)
    eye_y = np.mean([e[POSTERIOR] for e in marks.eyes])
    eye_z = np.mean([e[SUPERIOR] for e in marks.eyes])
    # The eyes lie anterior (smaller y) of the head's centre, the head rest posterior of it.
    assert eye_y < marks.head[POSTERIOR] - 50
    assert marks.head_rest[POSTERIOR] > marks.head[POSTERIOR] + 50
    assert marks.teeth is not None
    # The teeth lie below the eyes, the bulk of the head (the cranium) above them.
    assert marks.teeth[SUPERIOR] < eye_z - 20
    assert marks.head[SUPERIOR] > eye_z
    # The teeth are anterior too; the eyes sit symmetric about the head's midline.
    assert marks.teeth[POSTERIOR] < marks.head[POSTERIOR] - 40
    midline = np.mean([e[0] for e in marks.eyes])
    assert abs(midline - marks.head[0]) < 15


def test_the_inv3_affine_puts_the_eyes_anterior_and_the_teeth_inferior(cranium):
    assert_head_anatomy(cranium)
    assert cranium.orientation_known is False  # left-right is an assumption, see inv3.py
    assert cranium.modality == "CT"


def test_the_volume_reoriented_for_display_keeps_the_anatomy_and_puts_the_face_on_top(cranium):
    shown = closest_to_lps(cranium)
    assert_head_anatomy(shown)
    np.testing.assert_allclose(shown.affine[:3, :3], np.abs(cranium.affine[:3, :3]))
    assert shown.orientation_known is False
    # As a viewer draws the image (row 0 at the top) the eyes are in the upper half.
    eyes_row = np.linalg.solve(shown.affine, [*head_landmarks(shown).eyes[0], 1.0])[1]
    assert eyes_row < shown.shape[1] / 2


def test_the_converted_series_keeps_the_anatomy_and_says_its_orientation_is_unknown(cranium):
    part = closest_to_lps(cranium)
    datasets = volume_to_datasets(part, patient_id="P", modality="CT")
    assert not orientation_established(datasets)
    assert all(d.StudyDate == "" and d.SeriesDate == "" for d in datasets)
    assert "not established" in datasets[0].ImageComments
    # IOP row cosine toward patient left, column cosine toward posterior: the top edge of
    # the image is anterior, so a viewer's top marker reads "A".
    assert [float(v) for v in datasets[0].ImageOrientationPatient] == [1, 0, 0, 0, 1, 0]
    assembled = assemble_volume(datasets)
    assert assembled.orientation_known is False
    assert_head_anatomy(assembled)
