"""Issue 21: export reached from the result record and the worklist, POST forms whose answer
is the file (no CSRF token in any URL), SEG exportability said before anyone clicks (no
Frame of Reference UID: a 409 with the reason, never a 500), the PACS push only where a PACS
is connected (user wording otherwise), and a SeriesDescription on every SEG."""
import io
import re

import pydicom
import pytest

from exports.models import ExportRecord
from review.actions import do_update_policy
from review.models import QAItem
from tests.backend.exports.conftest import (
    FIRST_SLICE,
    SLICES,
    box_mask,
    ct_series_files,
    oblique_affine,
)
from tests.backend.exports.dciodvfy import dciodvfy

pytestmark = pytest.mark.django_db

LEFT = box_mask(slice(100, 140), slice(150, 190), slice(0, 3))
NO_FOR = ("SEG cannot be made for this series: its images have no Frame of Reference UID; "
          "NIfTI is available.")
NO_PACS = "No PACS is connected at this site; ask your site administrator"


@pytest.fixture
def no_for_series(head_ct, users, sites):
    """The head CT again, its images without a FrameOfReferenceUID."""
    from imaging.actions import do_ingest
    from imaging.models import Series

    hu = head_ct.hu[FIRST_SLICE:FIRST_SLICE + SLICES]
    files = []
    for name, data in ct_series_files(hu, oblique_affine(head_ct.spacing_zyx), "HEAD-NOFOR"):
        dataset = pydicom.dcmread(io.BytesIO(data))
        del dataset.FrameOfReferenceUID
        stream = io.BytesIO()
        dataset.save_as(stream, enforce_file_format=True)
        files.append((name, stream.getvalue()))
    do_ingest([(n, io.BytesIO(d), len(d)) for n, d in files], site=sites["home"],
              actor=users["annotator"])
    return Series.objects.get(study__patient__patient_id="HEAD-NOFOR")


def export_urls(html: str) -> list[str]:
    return re.findall(r'(?:href|action|formaction)="([^"]*)"', html)


def forms(html: str) -> list[str]:
    return re.findall(r"<form\b[^>]*>", html)


def test_the_record_offers_seg_and_nifti_as_post_forms(head_series, make_result, browser_as):
    result = make_result(head_series, "kidney-left-ct", LEFT)
    html = browser_as("annotator").get(f"/annotations/results/{result.pk}/").content.decode()
    assert "Download DICOM SEG (binary)" in html and "Download DICOM SEG (label map)" in html
    assert "Download NIfTI" in html
    assert f'href="/exports/results/{result.pk}/"' in html
    for form in forms(html):
        if "/exports/" in form:
            assert 'method="post"' in form, form
    # No PACS at this site: no push button, and the user's words say why.
    assert "Send SEG to the PACS" not in html
    assert NO_PACS in html and "IMAGING_PACS_URL" not in html


def test_the_push_button_shows_where_a_pacs_is_connected(settings, head_series, make_result,
                                                         browser_as):
    settings.IMAGING_PACS_URL = "http://127.0.0.1:9/dicom-web"
    result = make_result(head_series, "kidney-left-ct", LEFT)
    client = browser_as("annotator")
    record = client.get(f"/annotations/results/{result.pk}/").content.decode()
    page = client.get(f"/exports/results/{result.pk}/").content.decode()
    for html in (record, page):
        assert "Send SEG to the PACS" in html and NO_PACS not in html


def test_the_export_page_hides_the_push_without_a_pacs(head_series, make_result, browser_as):
    result = make_result(head_series, "kidney-left-ct", LEFT)
    html = browser_as("annotator").get(f"/exports/results/{result.pk}/").content.decode()
    assert "Download DICOM SEG" in html
    assert "Send SEG to the PACS" not in html and NO_PACS in html


def test_no_export_url_on_any_page_carries_the_csrf_token(head_series, make_result,
                                                          browser_as):
    result = make_result(head_series, "kidney-left-ct", LEFT)
    client = browser_as("annotator")
    for url in ("/annotations/", f"/annotations/results/{result.pk}/",
                f"/exports/results/{result.pk}/"):
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        for link in export_urls(html):
            assert "csrfmiddlewaretoken" not in link, (url, link)
        for form in forms(html):
            if "/exports/" in form:
                assert 'method="post"' in form, (url, form)


def test_the_worklist_links_a_confirmed_result_to_its_export(head_series, make_result,
                                                             browser_as):
    result = make_result(head_series, "kidney-left-ct", LEFT)
    draft = make_result(head_series, "liver-ct", box_mask(slice(10, 20), slice(10, 20)),
                        confirm=False)
    html = browser_as("annotator").get("/annotations/").content.decode()
    assert f'href="/exports/results/{result.pk}/"' in html
    assert f'href="/exports/results/{draft.pk}/"' not in html
    auditor = browser_as("auditor").get("/annotations/")
    if auditor.status_code == 200:  # auditors read the worklist but do not export
        assert "/exports/results/" not in auditor.content.decode()


def test_the_record_form_answers_a_seg_with_a_series_description(head_series, make_result,
                                                                 browser_as, tmp_path):
    result = make_result(head_series, "kidney-left-ct", LEFT)
    response = browser_as("annotator").post(f"/exports/results/{result.pk}/seg",
                                            {"type": "BINARY"})
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    seg = pydicom.dcmread(io.BytesIO(response.content))
    assert seg.Modality == "SEG"
    assert seg.SeriesDescription == "Left kidney - MedSAM-2 litemedsam (confirmed)"
    path = tmp_path / "seg.dcm"
    path.write_bytes(response.content)
    findings = dciodvfy(path)
    assert findings.errors == [], findings.output


def test_a_long_series_description_stays_within_64_characters(head_series, make_result):
    from exports.results import seg_series_description

    result = make_result(head_series, "kidney-left-ct", LEFT)
    result.prompt_version.content = {**result.prompt_version.content, "name": "x" * 80}
    description = seg_series_description([result])
    assert len(description) <= 64 and description.endswith("(confirmed)")
    assert description.isascii()


def test_a_series_without_frame_of_reference_says_why_and_answers_409(
        no_for_series, make_result, browser_as, api_as):
    from exports.results import seg_exportability

    result = make_result(no_for_series, "kidney-left-ct", LEFT)
    check = seg_exportability(no_for_series, result.decided_by)
    assert not check and check.reason == NO_FOR
    client = browser_as("annotator")
    record = client.get(f"/annotations/results/{result.pk}/").content.decode()
    assert NO_FOR in record and "Download DICOM SEG" not in record
    assert "Download NIfTI" in record
    page = client.get(f"/exports/results/{result.pk}/").content.decode()
    assert NO_FOR in page and "Download DICOM SEG" not in page
    posted = client.post(f"/exports/results/{result.pk}/seg", {"type": "BINARY"})
    assert posted.status_code == 409 and NO_FOR in posted.content.decode()
    api = api_as("annotator")
    for url in ("/api/v1/exports/seg", "/api/v1/exports/seg/push"):
        answer = api.post(url, {"results": [result.pk], "type": "BINARY"}, format="json")
        assert answer.status_code in (409, 502), (url, answer.content[:300])
    answer = api.post("/api/v1/exports/seg", {"results": [result.pk], "type": "BINARY"},
                      format="json")
    assert answer.status_code == 409 and answer.json()["detail"] == NO_FOR
    assert not ExportRecord.objects.exists()
    nifti = api.post(f"/api/v1/exports/results/{result.pk}/nifti")
    assert nifti.status_code == 200


def test_a_draft_on_such_a_series_says_it_before_confirming(no_for_series, make_result,
                                                            browser_as):
    draft = make_result(no_for_series, "kidney-left-ct", LEFT, confirm=False)
    html = browser_as("annotator").get(f"/annotations/results/{draft.pk}/").content.decode()
    assert f"Before you confirm: {NO_FOR}" in html


def test_a_push_without_a_pacs_is_refused_in_user_words(head_series, make_result, api_as):
    result = make_result(head_series, "kidney-left-ct", LEFT)
    answer = api_as("annotator").post("/api/v1/exports/seg/push",
                                      {"results": [result.pk], "type": "BINARY"}, format="json")
    assert answer.status_code == 502
    assert NO_PACS in answer.json()["detail"] and "IMAGING_PACS_URL" not in answer.json()[
        "detail"]
    assert not ExportRecord.objects.exists()


def test_a_blinded_reviewer_gets_no_export_link(head_series, make_result, users, sites,
                                                api_as, browser_as):
    do_update_policy(users["site_admin"], sites["home"], {"review_mode": "independent"})
    result = make_result(head_series, "kidney-left-ct", LEFT)
    item = QAItem.objects.get(result=result)
    assert item.is_open
    assert api_as("reviewer").post(f"/api/v1/review/items/{item.pk}/start").status_code == 200
    client = browser_as("reviewer")
    worklist = client.get("/annotations/")
    if worklist.status_code == 200:
        assert f"/exports/results/{result.pk}/" not in worklist.content.decode()
    assert client.get(f"/annotations/results/{result.pk}/").status_code == 403
    assert client.get(f"/exports/results/{result.pk}/").status_code == 403
    # The tag itself also refuses, whatever page renders it.
    from django.template import Context, Template
    from django.test import RequestFactory

    request = RequestFactory().get("/")
    request.user = users["reviewer"]
    rendered = Template("{% load export_tags %}{% result_exports result %}").render(
        Context({"request": request, "result": result}))
    assert "exports" not in rendered and "SEG" not in rendered
