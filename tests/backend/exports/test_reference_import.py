"""A SEG drawn elsewhere becomes the reference masks of a series: matched to prompt entries by
its codes, laid out like results' masks, compared with results (QA) and turned into a
reference case for the robustness score."""
import io
from pathlib import Path

import numpy as np
import pytest

from annotations import masks
from audit.models import AuditEntry
from exports.comparison import robustness_case
from exports.models import ReferenceMask
from tests.backend.exports.conftest import box_mask

pytestmark = pytest.mark.django_db

LEFT = box_mask(slice(100, 140), slice(150, 190), slice(0, 3))
RIGHT = box_mask(slice(100, 140), slice(60, 100), slice(1, 4))
SHIFTED = box_mask(slice(100, 140), slice(160, 200), slice(0, 3))


def seg_bytes(api_as, results) -> bytes:
    response = api_as("annotator").post("/api/v1/exports/seg",
                                        {"results": [r.pk for r in results]}, format="json")
    assert response.status_code == 200
    return response.content


def upload(api_as, data: bytes, who="reviewer", **fields):
    stream = io.BytesIO(data)
    stream.name = "reference.dcm"
    return api_as(who).post("/api/v1/exports/references", {"file": stream, **fields},
                            format="multipart")


@pytest.fixture
def expert_seg(head_series, make_result, api_as):
    """A two-kidney SEG (the 'expert' one), then the series' results rerun by the AI."""
    left = make_result(head_series, "kidney-left-ct", LEFT)
    right = make_result(head_series, "kidney-right-ct", RIGHT)
    return seg_bytes(api_as, [left, right])


def test_each_segment_becomes_the_reference_of_its_structure(expert_seg, head_series, api_as):
    response = upload(api_as, expert_seg)
    assert response.status_code == 201, response.json()
    assert sorted(r["structure_key"] for r in response.json()) == [
        "kidney-left-ct", "kidney-right-ct"]
    left = ReferenceMask.objects.get(structure_key="kidney-left-ct")
    assert left.series == head_series and left.source == "upload"
    assert left.codes["laterality"]["meaning"] == "Left"
    np.testing.assert_array_equal(masks.decode(left.data, tuple(left.shape)), LEFT)
    right = ReferenceMask.objects.get(structure_key="kidney-right-ct")
    np.testing.assert_array_equal(masks.decode(right.data, tuple(right.shape)), RIGHT)
    assert right.sha256 == masks.content_sha256(RIGHT)
    assert AuditEntry.objects.filter(action="reference.import").count() == 2


def test_qa_compares_a_result_with_the_reference(expert_seg, head_series, make_result, api_as):
    upload(api_as, expert_seg)
    rerun = make_result(head_series, "kidney-left-ct", SHIFTED, confirm=False)
    response = api_as("reviewer").get(f"/api/v1/exports/results/{rerun.pk}/comparison")
    assert response.status_code == 200
    expected = masks.dice(SHIFTED, LEFT)
    assert response.json()["dice"] == pytest.approx(expected, abs=1e-4)
    assert 0.5 < expected < 1.0
    liver = make_result(head_series, "liver-ct", LEFT, confirm=False)
    assert api_as("reviewer").get(
        f"/api/v1/exports/results/{liver.pk}/comparison").status_code == 404


def test_a_reference_is_a_robustness_case_with_its_truth(expert_seg, api_as):
    upload(api_as, expert_seg)
    case = robustness_case(ReferenceMask.objects.get(structure_key="kidney-left-ct"))
    np.testing.assert_array_equal(case.truth, LEFT)
    assert case.image.shape == LEFT.shape
    assert case.slice_index in (0, 1, 2)
    assert case.box == (150.0, 100.0, 189.0, 139.0)
    assert case.spacing_zyx == pytest.approx((1.5, 0.957, 0.957), abs=1e-3)


def test_importing_the_same_seg_again_changes_nothing(expert_seg, api_as):
    assert upload(api_as, expert_seg).status_code == 201
    again = upload(api_as, expert_seg)
    assert again.status_code == 201
    assert ReferenceMask.objects.count() == 2
    assert AuditEntry.objects.filter(action="reference.import").count() == 2


def test_a_different_reference_replaces_only_when_asked(expert_seg, head_series, make_result,
                                                        api_as):
    upload(api_as, expert_seg)
    from annotations.models import Result

    earlier = Result.objects.get(structure_key="kidney-left-ct", state="confirmed")
    other = make_result(head_series, "kidney-left-ct", SHIFTED, supersedes=earlier.pk)
    different = seg_bytes(api_as, [other])
    refused = upload(api_as, different)
    assert refused.status_code == 400
    assert "already has a reference mask of kidney-left-ct" in refused.json()["replace"][0]
    left = ReferenceMask.objects.get(structure_key="kidney-left-ct")
    np.testing.assert_array_equal(masks.decode(left.data, tuple(left.shape)), LEFT)
    assert upload(api_as, different, replace="true").status_code == 201
    left = ReferenceMask.objects.get(structure_key="kidney-left-ct")
    np.testing.assert_array_equal(masks.decode(left.data, tuple(left.shape)), SHIFTED)
    entry = AuditEntry.objects.filter(action="reference.import").latest("seq")
    assert entry.old_values["sha256"] == masks.content_sha256(LEFT)


def test_unusable_files_are_refused_with_a_reason(expert_seg, api_as, sites):
    garbage = upload(api_as, b"not dicom at all")
    assert garbage.status_code == 400
    assert garbage.json()["file"] == ["The file is not a readable DICOM file."]
    elsewhere = upload(api_as, expert_seg, who="reviewer_outsider")
    assert elsewhere.status_code == 400
    assert "not among this site's images" in elsewhere.json()["file"][0]
    assert upload(api_as, expert_seg, who="auditor").status_code == 403
    assert not ReferenceMask.objects.exists()


def test_a_segment_no_entry_matches_can_be_named(expert_seg, library, api_as):
    from prompts.models import PromptVersion

    PromptVersion.objects.filter(pk=library["kidney-right-ct"].pk).update(state="retired")
    unmatched = upload(api_as, expert_seg)
    assert unmatched.status_code == 400
    assert "No approved prompt entry" in unmatched.json()["structures"][0]
    assert "Right" in unmatched.json()["structures"][0]
    named = upload(api_as, expert_seg, structures='{"2": "kidney-right-ct"}')
    assert named.status_code == 201, named.json()
    assert ReferenceMask.objects.count() == 2


def test_references_are_written_as_cases_the_robustness_command_reads(expert_seg, api_as,
                                                                     tmp_path):
    from django.core.management import call_command

    from prompts.management.commands.prompt_library import _case

    upload(api_as, expert_seg)
    out = io.StringIO()
    call_command("reference_cases", "kidney-right-ct", "--site", "home", "-o", str(tmp_path),
                 stdout=out)
    written = [Path(line) for line in out.getvalue().split()]
    assert len(written) == 1
    case = _case(written[0])
    np.testing.assert_array_equal(case.truth, RIGHT)
    assert case.box == (60.0, 100.0, 99.0, 139.0)
    assert case.image.shape == RIGHT.shape


def test_a_real_seg_of_images_we_do_not_hold_is_refused(api_as, library):
    from pydicom.data import get_testdata_file

    with open(get_testdata_file("liver_1frame.dcm"), "rb") as stream:
        response = upload(api_as, stream.read())
    assert response.status_code == 400
    assert "not among this site's images" in response.json()["file"][0]


def test_a_manual_seg_of_some_slices_from_another_tool_lays_over_the_series(head_series,
                                                                            library, api_as):
    import highdicom as hd
    import pydicom
    from pydicom.sr.codedict import codes
    from pydicom.uid import generate_uid

    from imaging.models import Instance
    from model.imaging import plan_series

    headers = [pydicom.dcmread(i.file.path) for i in Instance.objects.filter(series=head_series)]
    order = [headers[ref.dataset_index] for ref in plan_series(headers).order]
    drawn = np.zeros((2, 256, 256), bool)
    drawn[0, 50:90, 60:120] = True
    drawn[1, 55:95, 70:130] = True
    seg = hd.seg.Segmentation(
        source_images=order[1:3], pixel_array=drawn, segmentation_type="BINARY",
        segment_descriptions=[hd.seg.SegmentDescription(
            1, "Liver (expert)", codes.SCT.Organ, codes.SCT.Liver, "MANUAL")],
        series_instance_uid=generate_uid(), series_number=50, sop_instance_uid=generate_uid(),
        instance_number=1, manufacturer="Other tool", manufacturer_model_name="Editor",
        software_versions="1", device_serial_number="1",
    )
    response = upload(api_as, pydicom_bytes(seg))
    assert response.status_code == 201, response.json()
    reference = ReferenceMask.objects.get()
    assert reference.structure_key == "liver-ct" and reference.label == "Liver (expert)"
    expected = np.zeros((4, 256, 256), np.uint8)
    expected[1:3] = drawn
    np.testing.assert_array_equal(masks.decode(reference.data, tuple(reference.shape)), expected)


def pydicom_bytes(dataset) -> bytes:
    stream = io.BytesIO()
    dataset.save_as(stream, enforce_file_format=True)
    return stream.getvalue()
