"""The server-rendered export page of a result and the reference masks page of a series."""
import io

import pydicom
import pytest

from exports.models import ExportRecord, ReferenceMask
from review.models import QAItem
from tests.backend.exports.conftest import box_mask

pytestmark = pytest.mark.django_db

LEFT = box_mask(slice(100, 140), slice(150, 190), slice(0, 3))
RIGHT = box_mask(slice(100, 140), slice(60, 100), slice(1, 4))


def test_it_offers_seg_pacs_and_nifti_for_a_confirmed_result(settings, head_series, make_result,
                                                            browser_as):
    settings.IMAGING_PACS_URL = "http://127.0.0.1:9/dicom-web"
    left = make_result(head_series, "kidney-left-ct", LEFT)
    right = make_result(head_series, "kidney-right-ct", RIGHT)
    page = browser_as("annotator").get(f"/exports/results/{left.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Download DICOM SEG" in html and "Send SEG to the PACS" in html
    assert "Download NIfTI" in html
    assert f'name="with" value="{right.pk}"' in html
    assert "AI original unedited: AUTOMATIC" in html


def test_the_page_downloads_one_seg_with_the_ticked_structures(head_series, make_result,
                                                               browser_as):
    left = make_result(head_series, "kidney-left-ct", LEFT)
    right = make_result(head_series, "kidney-right-ct", RIGHT)
    QAItem.objects.update(state="agreed")  # open QA readings would blind the reviewer
    response = browser_as("reviewer").post(f"/exports/results/{left.pk}/seg",
                                           {"with": [right.pk], "type": "BINARY"})
    assert response.status_code == 200
    seg = pydicom.dcmread(io.BytesIO(response.content))
    assert [s.SegmentLabel for s in seg.SegmentSequence] == ["Left kidney", "Right kidney"]
    assert ExportRecord.objects.get().created_by.username == "reviewer_owner"


def test_a_draft_page_says_why_and_offers_no_download(head_series, make_result, browser_as):
    draft = make_result(head_series, "kidney-left-ct", LEFT, confirm=False)
    client = browser_as("annotator")
    html = client.get(f"/exports/results/{draft.pk}/").content.decode()
    assert "only confirmed results can be exported" in html
    assert "Download DICOM SEG" not in html
    assert client.post(f"/exports/results/{draft.pk}/seg").status_code == 403
    assert client.post(f"/exports/results/{draft.pk}/nifti").status_code == 403
    assert not ExportRecord.objects.exists()


def test_a_failed_push_is_reported_on_the_page(settings, head_series, make_result, browser_as):
    settings.IMAGING_PACS_URL = "http://127.0.0.1:9/dicom-web"
    left = make_result(head_series, "kidney-left-ct", LEFT)
    response = browser_as("annotator").post(f"/exports/results/{left.pk}/push", follow=True)
    assert "The PACS did not answer" in response.content.decode()
    assert not ExportRecord.objects.exists()


def test_a_seg_uploaded_on_the_references_page_becomes_a_reference(head_series, make_result,
                                                                   browser_as):
    left = make_result(head_series, "kidney-left-ct", LEFT)
    QAItem.objects.update(state="agreed")  # open QA readings would blind the reviewer
    client = browser_as("reviewer")
    seg = client.post(f"/exports/results/{left.pk}/seg").content
    upload = io.BytesIO(seg)
    upload.name = "expert.dcm"
    response = client.post(f"/exports/series/{head_series.pk}/references/", {"file": upload},
                           follow=True)
    assert "Imported reference masks: kidney-left-ct" in response.content.decode()
    assert ReferenceMask.objects.get().imported_by.username == "reviewer_owner"
    page = client.get(f"/exports/results/{left.pk}/").content.decode()
    assert "Dice against the reference mask: <strong>1.0</strong>" in page


def test_pages_are_closed_to_other_roles_and_sites(head_series, make_result, browser_as):
    left = make_result(head_series, "kidney-left-ct", LEFT)
    assert browser_as("auditor").get(f"/exports/results/{left.pk}/").status_code == 403
    assert browser_as("annotator_outsider").get(f"/exports/results/{left.pk}/").status_code \
        == 404
