"""The worklist, the viewer's series layout and the annotation pages."""
import io

import pydicom
import pytest

from annotations.models import ResultState
from audit.models import AuditEntry
from tests.backend.annotations.conftest import ct_files

pytestmark = pytest.mark.django_db


@pytest.fixture
def reversed_series(head_ct, users, sites):
    """Four head CT slices whose InstanceNumbers run against their positions."""
    from imaging.actions import do_ingest
    from imaging.models import Series

    files = []
    for name, data in ct_files(head_ct.hu[60:64], head_ct.spacing_zyx, "REV-1"):
        dataset = pydicom.dcmread(io.BytesIO(data))
        dataset.InstanceNumber = 100 - int(dataset.InstanceNumber)
        stream = io.BytesIO()
        dataset.save_as(stream, enforce_file_format=True)
        files.append((name, stream.getvalue()))
    do_ingest([(n, io.BytesIO(d), len(d)) for n, d in files], site=sites["home"],
              actor=users["annotator"])
    return Series.objects.get(study__patient__patient_id="REV-1")


def test_it_lists_frames_in_volume_order_not_instance_order(api_as, reversed_series):
    from imaging.models import Instance

    body = api_as("annotator").get(
        f"/api/v1/annotations/series/{reversed_series.pk}/layout").json()
    assert body["shape"] == [4, 256, 256]
    assert body["problem"] == ""
    positions = []
    for frame in body["frames"]:
        instance = Instance.objects.get(sop_instance_uid=frame["sop_uid"])
        with instance.file.open("rb") as stream:
            positions.append(float(pydicom.dcmread(stream).ImagePositionPatient[2]))
    assert positions == sorted(positions) and len(set(positions)) == 4
    stored = [i.sop_instance_uid for i in reversed_series.instances.all()]
    assert [f["sop_uid"] for f in body["frames"]] == stored[::-1]


def test_it_refuses_the_layout_to_other_sites_and_to_auditors(api_as, reversed_series):
    url = f"/api/v1/annotations/series/{reversed_series.pk}/layout"
    assert api_as("annotator_outsider").get(url).status_code == 404
    assert api_as("auditor").get(url).status_code == 403
    assert api_as("reviewer").get(url).status_code == 200


def test_it_shows_each_structures_state_on_the_worklist(api_as, ai_result, make_head_series):
    make_head_series(2, patient="HEAD-EMPTY")
    client = api_as("annotator")
    rows = client.get("/api/v1/annotations/worklist").json()["series"]
    by_patient = {row["patient_id"]: row for row in rows}
    structures = by_patient["HEAD-1"]["structures"]
    assert [(s["key"], s["state"], s["result"]) for s in structures] == [
        ("liver-ct", "draft", ai_result.pk)]
    assert by_patient["HEAD-EMPTY"]["structures"] == []
    drafts = client.get("/api/v1/annotations/worklist?state=draft").json()["series"]
    assert [row["patient_id"] for row in drafts] == ["HEAD-1"]
    empty = client.get("/api/v1/annotations/worklist?state=none").json()["series"]
    assert [row["patient_id"] for row in empty] == ["HEAD-EMPTY"]
    assert AuditEntry.objects.filter(action="imaging.read", new_values__what="worklist").exists()


def test_it_shows_a_confirmed_result_as_confirmed(api_as, ai_result):
    ai_result.state = ResultState.CONFIRMED
    ai_result.save(update_fields=["state"])
    rows = api_as("reviewer").get("/api/v1/annotations/worklist?state=confirmed").json()
    assert rows["series"][0]["structures"][0]["state"] == "confirmed"


def test_the_pages_follow_the_roles(browser_as, ai_result):
    series = ai_result.series
    annotator = browser_as("annotator")
    page = annotator.get("/annotations/")
    assert page.status_code == 200 and b"Liver" in page.content
    viewer = annotator.get(f"/annotations/series/{series.pk}/")
    assert b'data-can-edit="1"' in viewer.content
    reviewer = browser_as("reviewer")
    assert b'data-can-edit="0"' in reviewer.get(f"/annotations/series/{series.pk}/").content
    auditor = browser_as("auditor")
    assert auditor.get("/annotations/").status_code == 200
    assert auditor.get(f"/annotations/series/{series.pk}/").status_code == 403
    record = auditor.get(f"/annotations/results/{ai_result.pk}/")
    assert record.status_code == 200
    assert b"DRAFT" in record.content and ai_result.latest_mask().sha256.encode() in record.content
    assert browser_as("prompt_admin").get("/annotations/").status_code == 403



def test_patient_names_read_without_dicom_carets(browser_as, api_as, reversed_series):
    patient = reversed_series.study.patient
    patient.name = "Roe^Richard^J"
    patient.save(update_fields=["name"])
    page = browser_as("annotator").get("/annotations/").content.decode()
    assert "Roe, Richard J" in page and "Roe^Richard" not in page
    layout = api_as("annotator").get(
        f"/api/v1/annotations/series/{reversed_series.pk}/layout").json()
    assert layout["patient_name"] == "Roe^Richard^J"  # the DICOM value, for programs
    assert layout["patient_display_name"] == "Roe, Richard J"
