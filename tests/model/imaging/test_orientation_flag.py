"""Which sources establish the patient orientation (issue 19), and what a conversion writes
when one does not: no invented date, and a mark that the orientation is not established."""
from __future__ import annotations

import datetime

import nibabel as nib
import nrrd
import numpy as np
import pytest

from model.imaging import Volume, assemble_volume, read_volume, volume_to_datasets
from model.imaging.geometry import orientation_established
from model.imaging.volume import closest_to_lps
from tests.model.imaging.dicom_builders import build_series


def test_ordinary_dicom_with_orientation_is_established():
    series = build_series(3)
    assert orientation_established(series)
    assert assemble_volume(series).orientation_known is True


def test_dicom_without_image_orientation_is_not_established():
    series = build_series(1)
    del series[0].ImageOrientationPatient
    assert not orientation_established(series)
    assert not orientation_established([])


def test_a_conversion_of_a_known_volume_is_established_and_dated_by_nobody():
    volume = Volume(np.zeros((3, 4, 5), np.float32), np.diag([0.5, 0.5, 2.0, 1.0]), "CT")
    datasets = volume_to_datasets(volume, patient_id="P", modality="CT")
    assert orientation_established(datasets)
    today = datetime.date.today().strftime("%Y%m%d")
    for ds in datasets:
        assert ds.StudyDate == "" and ds.SeriesDate == "" and ds.StudyDate != today
        assert "ImageComments" not in ds


def test_a_conversion_of_an_unknown_volume_is_marked_in_every_image():
    volume = Volume(np.zeros((3, 4, 5), np.float32), np.eye(4), "CT", orientation_known=False)
    datasets = volume_to_datasets(volume, patient_id="P", modality="CT")
    assert not orientation_established(datasets)
    assert not orientation_established(datasets[1:2])
    # Another series with IOP but the mark on one image only is not established either.
    mixed = build_series(2)
    mixed[1].private_block(0x0011, "MEDSAM2 GEOMETRY", create=True).add_new(
        0x01, "LO", "ORIENTATION NOT ESTABLISHED")
    assert not orientation_established(mixed)
    assert orientation_established(mixed[:1])


@pytest.mark.parametrize("qform, sform, known", [(0, 0, False), (1, 0, True), (0, 2, True)])
def test_nifti_orientation_is_known_only_with_a_qform_or_sform_code(tmp_path, qform, sform,
                                                                      known):
    image = nib.Nifti1Image(np.zeros((4, 3, 2), np.int16), np.diag([1.0, 1.0, 2.0, 1.0]))
    image.set_qform(image.affine, code=qform)
    image.set_sform(image.affine, code=sform)
    nib.save(image, str(tmp_path / "v.nii"))
    assert read_volume(tmp_path / "v.nii").orientation_known is known


def test_nrrd_orientation_is_known_only_with_space_directions_in_a_space(tmp_path):
    data = np.zeros((4, 3, 2), np.int16)
    nrrd.write(str(tmp_path / "a.nrrd"), data, {
        "space": "left-posterior-superior", "space directions": np.diag([1.0, 1.0, 2.0])})
    nrrd.write(str(tmp_path / "b.nrrd"), data, {"spacings": [1.0, 1.0, 2.0]})
    assert read_volume(tmp_path / "a.nrrd").orientation_known is True
    assert read_volume(tmp_path / "b.nrrd").orientation_known is False


def test_closest_to_lps_reverses_only_axes_that_run_against_the_patient():
    voxels = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    affine = np.array([[-1.0, 0, 0, 10], [0, 0.9, -0.1, 20], [0, 0.1, -2.0, 30], [0, 0, 0, 1]])
    volume = Volume(voxels, affine, "CT", orientation_known=False)
    shown = closest_to_lps(volume)
    assert shown.orientation_known is False
    assert shown.affine[0, 0] > 0 and shown.affine[1, 1] > 0 and shown.affine[2, 2] > 0
    for k, j, i in [(0, 0, 0), (1, 2, 3), (0, 1, 2)]:
        # The same voxel value sits at the same place in the patient.
        place = shown.affine @ [i, j, k, 1]
        ci, cj, ck, _ = np.linalg.solve(volume.affine, place)
        assert shown.voxels[k, j, i] == volume.voxels[round(ck), round(cj), round(ci)]
    plain = Volume(voxels, np.eye(4))
    assert closest_to_lps(plain) is plain
