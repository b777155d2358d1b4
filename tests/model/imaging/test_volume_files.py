"""NIfTI and NRRD volumes read into LPS, and masks written back overlay their source exactly."""

from pathlib import Path

import nibabel as nib
import nrrd
import numpy as np
import pytest

from model.imaging import Volume, assemble_volume, read_volume, write_mask
from model.imaging.errors import CorruptFileError, TruncatedFileError, UnsupportedFormatError
from tests.model.imaging.dicom_builders import build_series

NIBABEL_DATA = Path(nib.__file__).parent / "tests" / "data"


def test_nifti_index_order_and_ras_to_lps():
    path = NIBABEL_DATA / "anatomical.nii"
    image = nib.load(path)
    data = np.asarray(image.dataobj, dtype=np.float32)
    volume = read_volume(path)
    i, j, k = 3, 5, 7
    assert volume.voxels[k, j, i] == data[i, j, k]
    assert volume.voxels.shape == data.shape[::-1]
    ras = image.affine @ [i, j, k, 1]
    lps = volume.affine @ [i, j, k, 1]
    np.testing.assert_allclose(lps[:3], [-ras[0], -ras[1], ras[2]])


def test_compressed_nifti_reads_and_4d_is_refused():
    assert read_volume(NIBABEL_DATA / "standard.nii.gz").shape == (7, 5, 4)
    for four_d in ("example4d.nii.gz", "example_nifti2.nii.gz", "functional.nii"):
        with pytest.raises(UnsupportedFormatError):
            read_volume(NIBABEL_DATA / four_d)


@pytest.mark.parametrize("suffix", [".nii.gz", ".nii", ".nrrd"])
def test_a_mask_written_from_a_dicom_volume_reads_back_with_the_same_geometry(tmp_path, suffix):
    volume = assemble_volume(build_series(5, slice_mm=3.0))
    mask = (volume.voxels > 100).astype(np.uint8)
    path = tmp_path / f"mask{suffix}"
    write_mask(mask, volume, path)
    back = read_volume(path)
    np.testing.assert_array_equal(back.voxels, mask.astype(np.float32))
    np.testing.assert_allclose(back.affine, volume.affine, atol=1e-4)


def test_nifti_masks_are_ras_on_disk_for_other_tools(tmp_path):
    volume = Volume(np.zeros((2, 3, 4), np.float32), np.diag([0.5, 0.7, 2.0, 1.0]))
    write_mask(np.zeros((2, 3, 4), np.uint8), volume, tmp_path / "m.nii.gz")
    image = nib.load(tmp_path / "m.nii.gz")
    assert image.shape == (4, 3, 2)
    assert nib.aff2axcodes(image.affine) == ("L", "P", "S")
    assert image.get_data_dtype() == np.uint8


def test_nrrd_in_ras_space_converts_to_lps(tmp_path):
    data = np.arange(24, dtype=np.int16).reshape(4, 3, 2)
    header = {
        "space": "right-anterior-superior",
        "space directions": np.diag([0.5, 0.6, 2.0]),
        "space origin": np.array([10.0, 20.0, 30.0]),
    }
    nrrd.write(str(tmp_path / "v.nrrd"), data, header, index_order="F")
    volume = read_volume(tmp_path / "v.nrrd")
    assert volume.voxels[1, 2, 3] == data[3, 2, 1]
    np.testing.assert_allclose(volume.affine @ [1, 0, 0, 1], [-10.5, -20.0, 30.0, 1.0])
    assert volume.spacing == pytest.approx((0.5, 0.6, 2.0))


def test_a_detached_nrrd_header_is_read(tmp_path):
    data = np.ones((4, 3, 2), dtype=np.uint8)
    nrrd.write(str(tmp_path / "v.nhdr"), data, {"spacings": [1.0, 1.0, 2.5]}, detached_header=True)
    assert read_volume(tmp_path / "v.nhdr").spacing == pytest.approx((1.0, 1.0, 2.5))


def test_broken_nifti_and_nrrd_are_refused(tmp_path):
    (tmp_path / "bad.nii").write_bytes(b"\x00" * 400)
    with pytest.raises(CorruptFileError):
        read_volume(tmp_path / "bad.nii")
    whole = (NIBABEL_DATA / "anatomical.nii").read_bytes()
    (tmp_path / "cut.nii").write_bytes(whole[: len(whole) // 2])
    with pytest.raises(TruncatedFileError):
        read_volume(tmp_path / "cut.nii")
    (tmp_path / "bad.nrrd").write_bytes(b"NRRD0004\nnonsense\n\n")
    with pytest.raises(CorruptFileError):
        read_volume(tmp_path / "bad.nrrd")


def test_masks_must_match_the_volume(tmp_path):
    volume = Volume(np.zeros((2, 3, 4), np.float32), np.eye(4))
    with pytest.raises(ValueError):
        write_mask(np.zeros((2, 3, 5), np.uint8), volume, tmp_path / "m.nii.gz")
    with pytest.raises(UnsupportedFormatError):
        write_mask(np.zeros((2, 3, 4), np.uint8), volume, tmp_path / "m.png")


def test_a_nifti_volume_converts_to_a_dicom_series_with_the_same_voxels_and_geometry():
    from model.imaging import volume_to_datasets

    volume = read_volume(NIBABEL_DATA / "anatomical.nii")
    series = volume_to_datasets(volume, patient_id="P1", modality="MR")
    again = assemble_volume(list(reversed(series)))
    # This file's slice axis runs against the row x column normal; DICOM slices are ordered
    # along the normal, so the same voxels come back in reverse slice order at the same places.
    assert np.linalg.det(volume.affine[:3, :3]) < 0
    last = volume.shape[0] - 1
    for k in (0, 5, last):
        np.testing.assert_allclose(
            again.affine @ [2, 3, k, 1], volume.affine @ [2, 3, last - k, 1], atol=1e-4
        )
    span = float(np.ptp(volume.voxels))
    np.testing.assert_allclose(again.voxels, volume.voxels[::-1], atol=span / 65535 + 1e-6)
