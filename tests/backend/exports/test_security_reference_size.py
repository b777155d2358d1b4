"""Issue 20 item 7 for reference imports: a SEG whose header declares frames past the decoded-size
cap is refused before highdicom unpacks them, with the limit and the size in the reason."""

import pydicom
import pytest

from exports.reference import ReferenceImportError, parse_seg_bytes
from tests.model.imaging.dicom_builders import real_file, to_bytes


def test_a_seg_declaring_huge_frames_is_refused_before_decoding():
    dataset = pydicom.dcmread(real_file("liver_1frame.dcm"))
    assert dataset.Modality == "SEG"
    parse_seg_bytes(to_bytes(dataset))  # the real file passes
    dataset.Rows, dataset.Columns, dataset.NumberOfFrames = 65535, 65535, 1000
    with pytest.raises(ReferenceImportError) as refused:
        parse_seg_bytes(to_bytes(dataset))
    reason = " ".join(refused.value.message_dict["file"])
    assert "limit of 2.0 GiB" in reason and "1000x65535x65535" in reason
