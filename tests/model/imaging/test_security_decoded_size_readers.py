"""Issue 20 item 7: a small compressed file that declares, or inflates to, a huge image is
refused from its header (or while inflating in chunks) before anything that size is allocated.

Peak memory is measured with tracemalloc (numpy and zlib report their allocations to it).
"""

import gzip
import io
import tracemalloc
import zlib
from pathlib import Path

import nibabel as nib
import numpy as np
import pydicom
import pytest
from pydicom.uid import DeflatedExplicitVRLittleEndian, generate_uid

from model.imaging import decode_frames, read_dicom, read_volume
from model.imaging.errors import DecodedSizeError, UnsupportedFormatError
from model.imaging.nifti import read_nifti
from model.imaging.nrrd import read_nrrd
from tests.model.imaging.dicom_builders import build_series, real_file

MiB = 1024 * 1024
CAP = 2 * 1024 * MiB
NIBABEL_DATA = Path(nib.__file__).parent / "tests" / "data"


def nifti_header(shape, dtype=np.int16) -> bytes:
    header = nib.Nifti1Header()
    header.set_data_shape(shape)
    header.set_data_dtype(dtype)
    header["vox_offset"] = 352
    header.set_qform(np.eye(4), code=1)
    return header.binaryblock + b"\0" * 4


def gzip_stream(path: Path, head: bytes, zeros: int) -> None:
    """``head`` then ``zeros`` zero bytes, gzip-compressed without holding them in memory."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    chunk = bytes(4 * MiB)
    with open(path, "wb") as out:
        out.write(compressor.compress(head))
        left = zeros
        while left:
            step = min(left, len(chunk))
            out.write(compressor.compress(chunk[:step]))
            left -= step
        out.write(compressor.flush())


def peak_mib(function, *args, **kwargs):
    tracemalloc.start()
    try:
        try:
            outcome = function(*args, **kwargs)
        except Exception as error:  # noqa: BLE001 -- the caller checks what was raised
            outcome = error
        return outcome, tracemalloc.get_traced_memory()[1] / MiB
    finally:
        tracemalloc.stop()


def test_a_tiny_nii_gz_claiming_a_huge_volume_is_refused_from_its_header(tmp_path):
    path = tmp_path / "claims.nii.gz"
    path.write_bytes(gzip.compress(nifti_header((4096, 4096, 4096)) + bytes(1024)))
    assert path.stat().st_size < 4096
    error, peak = peak_mib(read_volume, path, max_decoded_bytes=CAP)
    assert isinstance(error, DecodedSizeError), error
    assert error.code == "decoded_too_large"
    assert "4096x4096x4096" in error.message and "limit of 2.0 GiB" in error.message
    assert "256.0 GiB" in error.message
    assert peak < 4, peak


def test_a_real_gzip_bomb_is_refused_with_low_peak_memory(tmp_path):
    # 256 x 256 x 1024 int16 of real zeros: 128 MiB inflated, 256 MiB as float32 voxels.
    path = tmp_path / "bomb.nii.gz"
    gzip_stream(path, nifti_header((256, 256, 1024)), 128 * MiB)
    assert 128 * MiB / path.stat().st_size > 900  # compresses about 1000:1
    error, peak = peak_mib(read_nifti, path, max_decoded_bytes=64 * MiB)
    assert isinstance(error, DecodedSizeError), error
    assert "limit of 64.0 MiB" in error.message and "256.0 MiB" in error.message
    assert peak < 4, peak


def test_data_past_what_the_header_declares_is_never_inflated(tmp_path):
    # A small image followed by 200 MiB of zeros: the image reads, the rest stays compressed.
    path = tmp_path / "trailing.nii.gz"
    gzip_stream(path, nifti_header((4, 4, 4), np.uint8), 200 * MiB)
    volume, peak = peak_mib(read_volume, path, max_decoded_bytes=CAP)
    assert volume.shape == (4, 4, 4)
    assert peak < 8, peak


def test_ordinary_nifti_files_still_read_under_the_cap():
    for name in ("standard.nii.gz", "anatomical.nii"):
        capped = read_volume(NIBABEL_DATA / name, max_decoded_bytes=CAP)
        np.testing.assert_array_equal(capped.voxels, read_volume(NIBABEL_DATA / name).voxels)
    with pytest.raises(UnsupportedFormatError):
        read_volume(NIBABEL_DATA / "example4d.nii.gz", max_decoded_bytes=CAP)


def nrrd_header(sizes, encoding="gzip", extra="") -> bytes:
    return (
        "NRRD0004\ntype: int16\nendian: little\ndimension: 3\n"
        f"sizes: {' '.join(map(str, sizes))}\nencoding: {encoding}\n{extra}\n"
    ).encode()


def test_a_gzip_nrrd_claiming_a_huge_volume_is_refused(tmp_path):
    path = tmp_path / "claims.nrrd"
    path.write_bytes(nrrd_header((4096, 4096, 4096)) + gzip.compress(bytes(4096)))
    error, peak = peak_mib(read_nrrd, path, max_decoded_bytes=CAP)
    assert isinstance(error, DecodedSizeError), error
    assert "4096x4096x4096" in error.message and "limit of 2.0 GiB" in error.message
    assert peak < 4, peak


def test_a_gzip_nrrd_bomb_behind_a_small_header_is_not_inflated(tmp_path):
    path = tmp_path / "bomb.nrrd"
    head = nrrd_header((8, 8, 8))
    gzip_stream(tmp_path / "data.gz", b"", 200 * MiB)
    path.write_bytes(head + (tmp_path / "data.gz").read_bytes())
    volume, peak = peak_mib(read_nrrd, path, max_decoded_bytes=CAP)
    assert volume.shape == (8, 8, 8)
    assert peak < 8, peak  # pynrrd alone inflates all 200 MiB


def test_a_sent_nrrd_cannot_read_another_file_of_the_machine(tmp_path):
    secret = tmp_path / "secret.raw"
    secret.write_bytes(np.arange(64, dtype=np.int16).tobytes())
    path = tmp_path / "pointer.nrrd"
    path.write_bytes(nrrd_header((4, 4, 4), "raw", f"data file: {secret}"))
    with pytest.raises(UnsupportedFormatError, match="separate data file"):
        read_volume(path, max_decoded_bytes=CAP, untrusted=True)
    assert read_volume(path).shape == (4, 4, 4)  # a local, trusted detached header still reads


def test_a_dicom_declaring_a_huge_image_is_refused_before_decoding():
    dataset = pydicom.dcmread(real_file("JPGExtended.dcm"))
    dataset.Rows, dataset.Columns, dataset.NumberOfFrames = 65535, 65535, 100
    error, peak = peak_mib(decode_frames, dataset, max_decoded_bytes=CAP)
    assert isinstance(error, DecodedSizeError), error
    assert "100x65535x65535" in error.message and "limit of 2.0 GiB" in error.message
    assert peak < 4, peak


def test_ordinary_dicom_decodes_under_the_cap():
    dataset = build_series(1)[0]
    np.testing.assert_array_equal(decode_frames(dataset, max_decoded_bytes=CAP),
                                  decode_frames(dataset))


def test_a_deflated_dicom_bomb_is_refused_before_pydicom_inflates_it(tmp_path):
    meta = pydicom.dataset.FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = DeflatedExplicitVRLittleEndian
    head = io.BytesIO()
    head.write(b"\0" * 128 + b"DICM")
    pydicom.filewriter.write_file_meta_info(head, meta, enforce_standard=True)
    length = 256 * MiB
    element = b"\xe0\x7f\x10\x00OB\0\0" + length.to_bytes(4, "little")
    compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    body = io.BytesIO()
    body.write(compressor.compress(element))
    chunk = bytes(4 * MiB)
    for _ in range(length // len(chunk)):
        body.write(compressor.compress(chunk))
    body.write(compressor.flush())
    data = head.getvalue() + body.getvalue()
    assert len(data) < 512 * 1024
    error, peak = peak_mib(read_dicom, data, max_decoded_bytes=64 * MiB)
    assert isinstance(error, DecodedSizeError), error
    assert "limit of 64.0 MiB" in error.message
    assert peak < 8, peak
    # A real deflated file still reads under the cap.
    with open(real_file("image_dfl.dcm"), "rb") as stream:
        assert "PixelData" in read_dicom(stream.read(), max_decoded_bytes=CAP)
