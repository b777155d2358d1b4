"""The SEG writer on its own (no database): a private code is declared, not smuggled in, and a
mask that does not fit the series is refused with a reason."""
import io

import highdicom as hd
import numpy as np
import pydicom
import pytest
from pydicom.data import get_testdata_file

from exports.codes import UnexportableCode, structure_codes
from exports.seg import (
    Algorithm,
    AlgorithmType,
    SegExportError,
    Segment,
    SegOptions,
    build_seg,
)
from model.imaging import plan_series
from tests.backend.exports.conftest import ct_series_files
from tests.backend.exports.dciodvfy import dciodvfy

ANATOMY = {"code": "123037004", "scheme": "SCT", "meaning": "Anatomical Structure"}
OPTIC_CUP = {"structure": {"category": ANATOMY, "laterality": None,
                           "type": {"code": "MSA0001", "scheme": "99MSANN",
                                    "meaning": "Optic cup"}}}
ALGORITHM = Algorithm("litemedsam", "1.2.0", "cd" * 32, "optic-cup-op v1")
DCIODVFY_UNKNOWN_PRIVATE_SCHEME = (
    "Warning - Unrecognized defined term <99MSANN> for value 1 of attribute "
    "<Coding Scheme Designator>"
)
"""dciodvfy knows only the standard's scheme designators; a 99 scheme declared in the Coding
Scheme Identification Sequence is what PS3.3 8.2 asks for, so this warning is expected."""


def headers(count=3):
    files = ct_series_files(np.zeros((count, 16, 16), np.float32), np.diag([0.7, 0.7, 2.0, 1]),
                           "CODES")
    return [pydicom.dcmread(io.BytesIO(data), stop_before_pixels=True) for _, data in files]


def cup_segment(mask):
    return Segment(mask, "Optic cup", structure_codes(OPTIC_CUP), AlgorithmType.AUTOMATIC,
                   ALGORITHM, "#98df8a")


def test_a_private_code_is_declared_and_the_seg_still_validates(tmp_path):
    sources = headers()
    mask = np.zeros((3, 16, 16), np.uint8)
    mask[1, 4:9, 5:12] = 1
    seg = build_seg(sources, plan_series(sources).order, [cup_segment(mask)],
                    SegOptions(creator="Doe^Jane"))
    declared = seg.CodingSchemeIdentificationSequence[0]
    assert declared.CodingSchemeDesignator == "99MSANN"
    assert declared.CodingSchemeName
    kind = seg.SegmentSequence[0].SegmentedPropertyTypeCodeSequence[0]
    assert (kind.CodeValue, kind.CodingSchemeDesignator) == ("MSA0001", "99MSANN")
    assert "SegmentedPropertyTypeModifierCodeSequence" not in kind
    path = tmp_path / "cup.dcm"
    seg.save_as(path)
    findings = dciodvfy(path)
    assert findings.errors == [], findings.output
    assert set(findings.warnings) <= {DCIODVFY_UNKNOWN_PRIVATE_SCHEME}, findings.output


def test_a_scheme_that_is_neither_snomed_nor_ours_is_refused():
    content = {"structure": {"category": ANATOMY, "type": {
        "code": "T-71000", "scheme": "SRT", "meaning": "Kidney"}}}
    with pytest.raises(UnexportableCode, match="'SRT'"):
        structure_codes(content)


def test_a_mask_that_does_not_fit_the_series_is_refused():
    sources = headers()
    with pytest.raises(SegExportError, match=r"the series is \(3, 16, 16\)"):
        build_seg(sources, plan_series(sources).order,
                  [cup_segment(np.zeros((2, 16, 16), np.uint8))], SegOptions(creator="Doe^J"))


def test_a_multi_frame_source_is_referenced_frame_by_frame(tmp_path):
    """A real enhanced CT (pydicom-data ``eCT_Supplemental``): one file, several frames."""
    source = pydicom.dcmread(get_testdata_file("eCT_Supplemental.dcm"), stop_before_pixels=True)
    order = plan_series([source]).order
    mask = np.zeros((len(order), source.Rows, source.Columns), np.uint8)
    for k in range(len(order)):
        mask[k, 100 + 9 * k:200, 50:300 - 7 * k] = 1
    codes = structure_codes({"structure": {"category": ANATOMY, "type": {
        "code": "12738006", "scheme": "SCT", "meaning": "Brain"}}})
    segment = Segment(mask, "Brain", codes, AlgorithmType.SEMIAUTOMATIC, ALGORITHM)
    seg = build_seg([source], order, [segment], SegOptions(creator="Doe^Jane"))
    path = tmp_path / "mr.dcm"
    seg.save_as(path)
    findings = dciodvfy(path)
    assert findings.errors == [], findings.output
    read = hd.seg.segread(path)
    frames = read.get_pixels_by_source_frame(
        str(source.SOPInstanceUID), [ref.frame_index + 1 for ref in order], segment_numbers=[1],
        dtype=np.uint8)
    np.testing.assert_array_equal(frames[..., 0], mask)


def test_a_cine_loop_without_positions_is_refused_with_a_reason():
    source = pydicom.dcmread(get_testdata_file("OBXXXX1A_2frame.dcm"), stop_before_pixels=True)
    order = plan_series([source]).order
    mask = np.zeros((len(order), source.Rows, source.Columns), np.uint8)
    with pytest.raises(SegExportError, match="no position in the patient.*NIfTI"):
        build_seg([source], order, [cup_segment(mask)], SegOptions(creator="Doe^Jane"))
