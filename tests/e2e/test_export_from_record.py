"""Issue 21 in Chromium: a confirmed result's record page offers the SEG export; clicking it
downloads a DICOM SEG (a POST whose answer is the file, no CSRF token in any URL). A reviewer
blinded by an open independent QA reading gets no export link or page."""
import pydicom
import pytest

from review.actions import do_update_policy
from review.models import QAItem
from tests.backend.exports.conftest import (  # noqa: F401 (fixtures)
    box_mask,
    head_series,
    make_result,
    media_root,
)

pytestmark = pytest.mark.django_db(transaction=True)

LEFT = box_mask(slice(100, 140), slice(150, 190), slice(0, 3))


def test_the_record_downloads_a_dicom_seg(page_as, live_server, head_series, make_result,  # noqa: F811
                                          tmp_path):
    result = make_result(head_series, "kidney-left-ct", LEFT)
    page = page_as("annotator")
    requested = []
    page.on("request", lambda r: requested.append(r.url))
    page.goto(f"{live_server.url}/annotations/results/{result.pk}/")
    with page.expect_download() as info:
        page.click("#record-seg-binary button")
    download = info.value
    path = tmp_path / "seg.dcm"
    download.save_as(path)
    seg = pydicom.dcmread(path)
    assert seg.Modality == "SEG" and seg.SOPClassUID == "1.2.840.10008.5.1.4.1.1.66.4"
    assert seg.SeriesDescription.endswith("(confirmed)")
    assert all("csrfmiddlewaretoken" not in url for url in requested + [download.url])


def test_a_blinded_reviewer_sees_no_export_link(page_as, live_server, head_series,  # noqa: F811
                                                make_result, users, sites):  # noqa: F811
    do_update_policy(users["site_admin"], sites["home"], {"review_mode": "independent"})
    result = make_result(head_series, "kidney-left-ct", LEFT)
    assert QAItem.objects.get(result=result).is_open
    page = page_as("reviewer")
    page.goto(f"{live_server.url}/annotations/")
    assert page.locator(f'a[href="/exports/results/{result.pk}/"]').count() == 0
    response = page.goto(f"{live_server.url}/exports/results/{result.pk}/")
    assert response.status == 403
    assert page.locator("#record-seg-binary, #seg-form").count() == 0
