"""Pushing SEG exports to a real Orthanc over STOW-RS, finding them with QIDO-RS, and taking
one back from the PACS as a reference mask."""
import numpy as np
import pytest
from dicomweb_client.api import DICOMwebClient

from annotations import masks
from audit.models import AuditEntry
from exports.models import ExportRecord, ReferenceMask
from tests.backend.exports.conftest import box_mask
from tests.backend.imaging.orthanc import orthanc  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db

LEFT = box_mask(slice(100, 140), slice(150, 190), slice(0, 3))


def test_a_pushed_seg_is_found_by_qido_on_the_pacs(orthanc, settings, head_series,  # noqa: F811
                                                   make_result, api_as):
    settings.IMAGING_PACS_URL = orthanc
    result = make_result(head_series, "kidney-left-ct", LEFT)
    response = api_as("annotator").post("/api/v1/exports/seg/push",
                                        {"results": [result.pk]}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["destination"] == "pacs" and body["pacs_url"] == orthanc
    study_uid = head_series.study.study_instance_uid
    pacs = DICOMwebClient(url=orthanc)
    found = pacs.search_for_series(study_instance_uid=study_uid,
                                   search_filters={"Modality": "SEG"})
    assert [s["0020000E"]["Value"][0] for s in found] == [body["series_instance_uid"]]
    instances = pacs.search_for_instances(study_instance_uid=study_uid,
                                          series_instance_uid=body["series_instance_uid"])
    assert [i["00080018"]["Value"][0] for i in instances] == [body["sop_instance_uid"]]
    entry = AuditEntry.objects.get(action="result.export")
    assert entry.new_values["destination"] == "pacs"
    assert entry.new_values["sop_instance_uid"] == body["sop_instance_uid"]

    imported = api_as("reviewer").post("/api/v1/exports/references/pacs", {
        "study_uid": study_uid, "series_uid": body["series_instance_uid"],
        "sop_uid": body["sop_instance_uid"]}, format="json")
    assert imported.status_code == 201, imported.json()
    reference = ReferenceMask.objects.get()
    assert (reference.source, reference.structure_key) == ("pacs", "kidney-left-ct")
    np.testing.assert_array_equal(masks.decode(reference.data, tuple(reference.shape)), LEFT)


def test_an_unreachable_pacs_is_a_502_and_nothing_is_recorded(settings, head_series,
                                                               make_result, api_as):
    settings.IMAGING_PACS_URL = "http://127.0.0.1:9/dicom-web"
    result = make_result(head_series, "kidney-left-ct", LEFT)
    response = api_as("annotator").post("/api/v1/exports/seg/push",
                                        {"results": [result.pk]}, format="json")
    assert response.status_code == 502
    assert not ExportRecord.objects.exists()
    assert not AuditEntry.objects.filter(action="result.export").exists()


def test_a_draft_is_never_pushed(orthanc, settings, head_series, make_result,  # noqa: F811
                                 api_as):
    settings.IMAGING_PACS_URL = orthanc
    draft = make_result(head_series, "kidney-left-ct", LEFT, confirm=False)
    response = api_as("annotator").post("/api/v1/exports/seg/push",
                                        {"results": [draft.pk]}, format="json")
    assert response.status_code == 403
    found = DICOMwebClient(url=orthanc).search_for_series(
        study_instance_uid=head_series.study.study_instance_uid)
    assert found == []
