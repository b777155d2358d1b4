"""Broken and unusable files are refused with a reason a user can act on and no patient data."""

import pydicom
import pytest
from pydicom.encaps import encapsulate
from pydicom.uid import UID

from model.imaging import read_dicom, read_volume
from model.imaging.dicom_file import require_supported_syntax
from model.imaging.errors import (
    CorruptFileError,
    ImagingError,
    NoPixelDataError,
    NotDicomError,
    PixelDecodeError,
    TruncatedFileError,
    UnsupportedTransferSyntaxError,
)
from tests.model.imaging.dicom_builders import real_file, to_bytes

REAL_BROKEN = [
    ("no_meta.dcm", NotDicomError),
    ("MR_truncated.dcm", TruncatedFileError),
    ("rtplan_truncated.dcm", TruncatedFileError),
    ("emri_small_jpeg_2k_lossless_too_short.dcm", TruncatedFileError),
    ("rtplan.dcm", NoPixelDataError),
    ("test-SR.dcm", NoPixelDataError),
    ("waveform_ecg.dcm", NoPixelDataError),
    ("meta_missing_tsyntax.dcm", CorruptFileError),
    ("badVR.dcm", CorruptFileError),
    ("liver_1frame.dcm", CorruptFileError),
    ("JPEG2000-embedded-sequence-delimiter.dcm", PixelDecodeError),
]


@pytest.mark.parametrize(("name", "error"), REAL_BROKEN)
def test_it_names_the_reason_for_each_broken_real_file(name, error):
    with pytest.raises(error) as caught:
        read_volume(real_file(name))
    assert caught.value.code == error.code
    assert caught.value.message


def test_it_refuses_a_text_file_as_not_dicom(tmp_path):
    path = tmp_path / "notes.dcm"
    path.write_text("Patient said hello\n" * 20)
    with pytest.raises(NotDicomError):
        read_volume(path)


@pytest.mark.parametrize("keep", [0.05, 0.3, 0.6, 0.95, 0.9999])
def test_it_detects_truncation_anywhere_in_the_file(keep):
    data = open(real_file("CT_small.dcm"), "rb").read()
    cut = data[: max(140, int(len(data) * keep))]
    with pytest.raises((TruncatedFileError, NoPixelDataError, CorruptFileError)):
        read_volume_from_bytes(cut)


def read_volume_from_bytes(data: bytes):
    from model.imaging import assemble_volume

    return assemble_volume([read_dicom(data)])


def as_mpeg2(dataset: pydicom.Dataset) -> pydicom.Dataset:
    """The same image claiming MPEG2, a syntax no decoder here handles."""
    dataset.file_meta.TransferSyntaxUID = UID("1.2.840.10008.1.2.4.100")
    dataset.PixelData = encapsulate([dataset.PixelData])
    dataset["PixelData"].VR = "OB"
    return dataset


def test_an_unsupported_transfer_syntax_is_refused_by_name():
    dataset = as_mpeg2(pydicom.dcmread(real_file("CT_small.dcm")))
    with pytest.raises(UnsupportedTransferSyntaxError) as caught:
        read_volume_from_bytes(to_bytes(dataset))
    assert "MPEG2" in caught.value.message
    with pytest.raises(UnsupportedTransferSyntaxError):
        require_supported_syntax(UID("1.2.3.4.5"))


def test_messages_carry_no_patient_data():
    dataset = pydicom.dcmread(real_file("CT_small.dcm"))
    dataset.PatientName = "Secret^Person"
    dataset.PatientID = "SECRET-ID-42"
    data = to_bytes(as_mpeg2(dataset))
    for broken in (data, data[: len(data) // 2]):
        with pytest.raises(ImagingError) as caught:
            read_volume_from_bytes(broken)
        text = str(caught.value)
        assert "Secret" not in text and "SECRET-ID" not in text
        assert dataset.SOPInstanceUID not in text
