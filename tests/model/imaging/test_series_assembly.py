"""Series built from real slices assemble in position order, or are refused with the reason."""

import random

import numpy as np
import pytest

from model.imaging import assemble_volume, plan_series, read_dicom, read_volume
from model.imaging.errors import (
    DuplicatePositionError,
    InvalidGeometryError,
    IrregularSpacingError,
    MatrixSizeMismatchError,
    MissingSlicesError,
    MixedSeriesError,
    OrientationMismatchError,
    PixelSpacingMismatchError,
)
from tests.model.imaging.dicom_builders import build_series, real_file, to_bytes

OFFSET = 10


def base_slice_values():
    return read_volume(real_file("CT_small.dcm")).voxels[0]


def test_it_orders_shuffled_slices_by_position_not_instance_number():
    series = build_series(12, slice_mm=2.5)
    random.Random(7).shuffle(series)
    for number, dataset in enumerate(series):
        dataset.InstanceNumber = number + 1
    volume = assemble_volume(series)
    base = base_slice_values()
    assert volume.shape == (12, 128, 128)
    for k in range(12):
        np.testing.assert_array_equal(volume.voxels[k], base + k * OFFSET)
    assert volume.spacing[2] == pytest.approx(2.5)
    assert volume.modality == "CT"


def test_the_affine_maps_indices_to_the_slice_positions():
    series = build_series(5, slice_mm=3.0)
    volume = assemble_volume(list(reversed(series)))
    for k, dataset in enumerate(series):
        expected = np.array([float(v) for v in dataset.ImagePositionPatient])
        np.testing.assert_allclose(volume.affine @ [0, 0, k, 1], [*expected, 1], atol=1e-3)
    row_cosine = np.array([float(v) for v in series[0].ImageOrientationPatient[:3]])
    spacing = [float(v) for v in series[0].PixelSpacing]
    np.testing.assert_allclose(volume.affine[:3, 0], row_cosine * spacing[1])


def test_a_folder_of_slices_reads_as_one_volume(tmp_path):
    for index, dataset in enumerate(build_series(6)):
        (tmp_path / f"IM{index:04d}").write_bytes(to_bytes(dataset))
    (tmp_path / "README.txt").write_text("not an image")
    assert read_volume(tmp_path).shape == (6, 128, 128)


def test_a_missing_slice_is_reported_not_interpolated():
    series = build_series(10, slice_mm=2.0)
    del series[4]
    with pytest.raises(MissingSlicesError) as caught:
        assemble_volume(series)
    assert "1 slice(s) missing" in caught.value.message


def test_irregular_gaps_are_refused():
    series = build_series(6, positions_mm=[0, 2, 4, 7.1, 9, 11])
    with pytest.raises(IrregularSpacingError):
        plan_series(series)


def test_two_slices_at_one_position_are_refused():
    series = build_series(5, positions_mm=[0, 2, 2, 4, 6])
    with pytest.raises(DuplicatePositionError):
        plan_series(series)


def test_a_slice_with_another_orientation_is_refused():
    series = build_series(5)
    series[2].ImageOrientationPatient = [1, 0, 0, 0, 0, -1]
    with pytest.raises(OrientationMismatchError):
        plan_series(series)


def test_a_slice_with_another_pixel_spacing_is_refused():
    series = build_series(5)
    series[3].PixelSpacing = [0.9, 0.9]
    with pytest.raises(PixelSpacingMismatchError) as caught:
        plan_series(series)
    assert "0.9x0.9" in caught.value.message


def test_a_slice_with_another_matrix_size_is_refused():
    series = build_series(4)
    small = read_dicom(real_file("MR_small.dcm"))
    small.SeriesInstanceUID = series[0].SeriesInstanceUID
    small.StudyInstanceUID = series[0].StudyInstanceUID
    small.PatientID = series[0].PatientID
    with pytest.raises(MatrixSizeMismatchError) as caught:
        plan_series([*series, small])
    assert "64x64" in caught.value.message and "128x128" in caught.value.message


def test_slices_of_two_series_are_refused():
    with pytest.raises(MixedSeriesError):
        plan_series(build_series(3) + build_series(3))


def test_slices_without_positions_cannot_be_ordered():
    series = build_series(3)
    for dataset in series:
        del dataset.ImagePositionPatient
    with pytest.raises(InvalidGeometryError):
        plan_series(series)


def test_planning_needs_headers_only():
    series = [read_dicom(to_bytes(d), stop_before_pixels=True) for d in build_series(4)]
    plan = plan_series(series)
    assert len(plan.order) == 4 and (plan.rows, plan.cols) == (128, 128)
