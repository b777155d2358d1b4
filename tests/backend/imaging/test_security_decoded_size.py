"""Issue 20 item 7 through the upload API: a 1 KiB .nii.gz that declares a 256 GiB volume, or a
DICOM whose header declares an image past the cap, is refused with the limit and the size in
its report line (400), and the web process does not allocate it."""

import gzip
import tracemalloc

import nibabel as nib
import numpy as np
import pydicom

from imaging.limits import UploadLimits, max_decoded_bytes
from imaging.models import Instance
from tests.backend.imaging.conftest import series_files
from tests.model.imaging.dicom_builders import real_file, to_bytes


def claiming_nifti(shape) -> bytes:
    header = nib.Nifti1Header()
    header.set_data_shape(shape)
    header.set_data_dtype(np.int16)
    header["vox_offset"] = 352
    return gzip.compress(header.binaryblock + b"\0" * 4 + bytes(2048))


def test_the_cap_is_two_gib_by_default_and_configurable(settings):
    assert max_decoded_bytes() == 2 * 1024**3
    assert UploadLimits.from_settings().max_decoded_bytes == 2 * 1024**3
    settings.IMAGING_MAX_DECODED_BYTES = 1024
    assert UploadLimits.from_settings().max_decoded_bytes == 1024


def test_a_tiny_nii_gz_claiming_a_huge_volume_is_refused_with_a_clear_reason(upload):
    data = claiming_nifti((4096, 4096, 4096))
    assert len(data) < 4096
    tracemalloc.start()
    try:
        response = upload({"huge.nii.gz": data}, modality="CT")
        peak = tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()
    assert response.status_code == 400, response.json()
    line = response.json()["files"][0]
    assert line["status"] == "rejected" and line["code"] == "decoded_too_large"
    assert "4096x4096x4096" in line["reason"] and "256.0 GiB" in line["reason"]
    assert "limit of 2.0 GiB" in line["reason"]
    assert peak < 64, peak
    assert not Instance.objects.exists()


def test_a_dicom_declaring_a_huge_image_is_refused(upload):
    dataset = pydicom.dcmread(real_file("JPGExtended.dcm"))
    dataset.Rows, dataset.Columns, dataset.NumberOfFrames = 65535, 65535, 100
    dataset.PatientID = "P1"
    response = upload({"huge.dcm": to_bytes(dataset)})
    assert response.status_code == 400, response.json()
    line = response.json()["files"][0]
    assert line["code"] == "decoded_too_large" and "limit of 2.0 GiB" in line["reason"]


def test_a_lower_configured_cap_refuses_an_ordinary_series(upload, settings):
    settings.IMAGING_MAX_DECODED_BYTES = 1024
    response = upload(series_files(2))
    assert response.status_code == 400
    assert {f["code"] for f in response.json()["files"]} == {"decoded_too_large"}
    assert "limit of 1.0 KiB" in response.json()["files"][0]["reason"]
