"""The SEG writer on its own (no database): a private code is declared, not smuggled in, and a
mask that does not fit the series is refused with a reason."""
import io

import numpy as np
import pydicom
import pytest
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
    with pytest.raises(SegExportError, match="the series has 3 slices"):
        build_seg(sources, plan_series(sources).order,
                  [cup_segment(np.zeros((2, 16, 16), np.uint8))], SegOptions(creator="Doe^J"))
