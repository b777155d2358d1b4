"""Every transfer syntax a hospital sends decodes to the same image as its uncompressed twin."""

import numpy as np
import pydicom
import pytest

from model.imaging import read_dicom, read_volume
from model.imaging.decode import decode_frames
from tests.model.imaging.dicom_builders import real_file

# (compressed file, uncompressed reference of the same image, lossless?)
SAME_IMAGE = [
    ("MR_small_implicit.dcm", "MR_small.dcm", True),  # implicit VR little endian
    ("MR_small_bigendian.dcm", "MR_small.dcm", True),  # explicit VR big endian
    ("MR_small_RLE.dcm", "MR_small.dcm", True),  # RLE lossless
    ("MR_small_jpeg_ls_lossless.dcm", "MR_small.dcm", True),  # JPEG-LS lossless
    ("MR_small_jp2klossless.dcm", "MR_small.dcm", True),  # JPEG 2000 lossless
    ("emri_small_jpeg_2k_lossless.dcm", "emri_small.dcm", True),  # multi-frame J2K
    ("emri_small_RLE.dcm", "emri_small.dcm", True),
    ("emri_small_big_endian.dcm", "emri_small.dcm", True),
    ("SC_rgb_jpeg_gdcm.dcm", "SC_rgb.dcm", True),  # JPEG lossless, process 14 SV1
    ("693_J2KR.dcm", "693_UNCR.dcm", True),
    ("693_J2KI.dcm", "693_UNCI.dcm", False),  # JPEG 2000 lossy
    ("JPGExtended.dcm", "JPEG2000_UNC.dcm", False),  # JPEG extended 12 bit
    ("MR2_J2KI.dcm", "MR2_UNCI.dcm", False),
    ("RG1_J2KR.dcm", "RG1_UNCR.dcm", True),  # MONOCHROME1 CR
    ("US1_J2KI.dcm", "US1_UNCI.dcm", False),  # YBR_ICT colour
    ("SC_rgb_jpeg_dcmtk.dcm", "SC_rgb.dcm", False),  # JPEG baseline YBR
    ("SC_rgb_rle.dcm", "SC_rgb.dcm", True),
]


@pytest.mark.parametrize(("encoded", "reference", "lossless"), SAME_IMAGE)
def test_it_decodes_each_transfer_syntax_like_the_uncompressed_file(encoded, reference, lossless):
    ours = read_volume(real_file(encoded))
    expected = read_volume(real_file(reference))
    assert ours.voxels.shape == expected.voxels.shape
    if lossless:
        np.testing.assert_array_equal(ours.voxels, expected.voxels)
    else:
        scale = float(np.ptp(expected.voxels))
        mean_error = float(np.mean(np.abs(ours.voxels - expected.voxels)))
        assert mean_error < 0.05 * scale


def test_it_decodes_deflate_jpeg_ls_near_lossless_and_jpeg_baseline_multiframe():
    assert read_volume(real_file("image_dfl.dcm")).shape == (1, 512, 512)
    assert read_volume(real_file("JPEG-LL.dcm")).shape == (1, 1024, 256)
    assert read_volume(real_file("JPEGLSNearLossless_16.dcm")).shape == (1, 50, 10)
    assert read_volume(real_file("color3d_jpeg_baseline.dcm")).shape == (120, 480, 640)


def test_it_applies_rescale_to_hounsfield_units():
    dataset = pydicom.dcmread(real_file("693_UNCI.dcm"))
    stored = dataset.pixel_array.astype(np.float32)
    hu = decode_frames(read_dicom(real_file("693_UNCI.dcm")))[0]
    slope, intercept = float(dataset.RescaleSlope), float(dataset.RescaleIntercept)
    assert intercept != 0
    np.testing.assert_allclose(hu, stored * slope + intercept)


def test_it_inverts_monochrome1_so_that_bone_stays_bright():
    dataset = pydicom.dcmread(real_file("RG1_UNCR.dcm"))
    assert dataset.PhotometricInterpretation == "MONOCHROME1"
    stored = dataset.pixel_array.astype(np.float32)
    voxels = read_volume(real_file("RG1_UNCR.dcm")).voxels[0]
    high = 2 ** int(dataset.BitsStored) - 1
    np.testing.assert_allclose(voxels, high - stored)


def test_it_reads_enhanced_ct_per_frame_geometry_and_rescale():
    volume = read_volume(real_file("eCT_Supplemental.dcm"))
    dataset = pydicom.dcmread(real_file("eCT_Supplemental.dcm"))
    first = dataset.PerFrameFunctionalGroupsSequence[0].PlanePositionSequence[0]
    second = dataset.PerFrameFunctionalGroupsSequence[1].PlanePositionSequence[0]
    gap = np.linalg.norm(
        np.array(second.ImagePositionPatient, float) - np.array(first.ImagePositionPatient, float)
    )
    assert volume.shape == (2, 512, 512)
    assert volume.spacing == pytest.approx((0.388672, 0.388672, gap))
    stored = dataset.pixel_array.astype(np.float32)
    assert volume.voxels.min() == pytest.approx(stored.min() - 1024)
    assert volume.modality == "CT"


def test_a_single_2d_image_is_a_one_slice_volume_at_its_position():
    volume = read_volume(real_file("CT_small.dcm"))
    dataset = pydicom.dcmread(real_file("CT_small.dcm"))
    assert volume.shape == (1, 128, 128)
    position = [float(v) for v in dataset.ImagePositionPatient]
    np.testing.assert_allclose(volume.affine[:3, 3], position)
    assert volume.spacing[2] == pytest.approx(float(dataset.SliceThickness))


def test_colour_images_become_luminance():
    volume = read_volume(real_file("SC_rgb.dcm"))
    rgb = pydicom.dcmread(real_file("SC_rgb.dcm")).pixel_array.astype(np.float32)
    np.testing.assert_allclose(volume.voxels[0], rgb @ np.array([0.299, 0.587, 0.114]), rtol=1e-5)
