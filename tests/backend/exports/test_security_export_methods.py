"""Issue 20 (also weak) and 21: an export writes an export record and audit entries, so it is
a POST with the CSRF token in the body. A GET -- what a cross-site link or a top-level
navigation sends -- writes nothing (405); the page shows forms, and the token never appears
in a URL."""
import re

import pytest
from django.test import Client

from audit.models import AuditEntry
from exports.models import ExportRecord
from tests.backend.exports.conftest import box_mask

pytestmark = pytest.mark.django_db

LEFT = box_mask(slice(100, 140), slice(150, 190), slice(0, 3))


@pytest.fixture
def confirmed(head_series, make_result):
    return make_result(head_series, "kidney-left-ct", LEFT)


def nothing_exported() -> bool:
    return not ExportRecord.objects.exists() and not AuditEntry.objects.filter(
        action="result.export").exists()


def test_a_get_of_an_export_writes_nothing(confirmed, browser_as, api_as):
    page = browser_as("annotator")
    for url in (f"/exports/results/{confirmed.pk}/nifti",
                f"/exports/results/{confirmed.pk}/seg",
                f"/exports/results/{confirmed.pk}/seg?with={confirmed.pk}&type=BINARY",
                f"/exports/results/{confirmed.pk}/push"):
        assert page.get(url).status_code == 405, url
    api = api_as("annotator")
    assert api.get(f"/api/v1/exports/results/{confirmed.pk}/nifti").status_code == 405
    assert api.get(f"/api/v1/exports/seg?results={confirmed.pk}").status_code == 405
    assert nothing_exported()


def test_the_page_posts_its_exports_with_the_token_in_the_body(confirmed, users):
    client = Client(enforce_csrf_checks=True)
    client.force_login(users["annotator"])
    html = client.get(f"/exports/results/{confirmed.pk}/").content.decode()
    assert nothing_exported()  # showing the page writes nothing
    forms = re.findall(r"<form\b[^>]*>", html)
    for target in ("seg", "nifti"):
        form = next(f for f in forms if f"/exports/results/{confirmed.pk}/{target}" in f)
        assert 'method="post"' in form, form
    assert not re.search(r'<form\b[^>]*method="get"', html)
    assert not re.search(rf'href="[^"]*/exports/results/{confirmed.pk}/(nifti|seg)', html)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)

    # Without the token (a cross-site form) the export is refused and nothing is written.
    forged = client.post(f"/exports/results/{confirmed.pk}/nifti")
    assert forged.status_code == 403
    assert nothing_exported()

    nifti = client.post(f"/exports/results/{confirmed.pk}/nifti",
                        {"csrfmiddlewaretoken": token})
    assert nifti.status_code == 200 and nifti["Content-Disposition"].endswith('.nii.gz"')
    seg = client.post(f"/exports/results/{confirmed.pk}/seg",
                      {"csrfmiddlewaretoken": token, "type": "BINARY"})
    assert seg.status_code == 200 and seg["Content-Type"] == "application/dicom"
    assert ExportRecord.objects.count() == 2
    assert "csrfmiddlewaretoken" not in (nifti.get("Location", "") + seg.get("Location", ""))


def test_the_api_export_needs_the_csrf_token_of_a_browser_session(confirmed, users):
    client = Client(enforce_csrf_checks=True)
    client.force_login(users["annotator"])
    forged = client.post(f"/api/v1/exports/results/{confirmed.pk}/nifti")
    assert forged.status_code == 403
    forged = client.post("/api/v1/exports/seg", {"results": [confirmed.pk]},
                         content_type="application/json")
    assert forged.status_code == 403
    assert nothing_exported()
    client.get(f"/exports/results/{confirmed.pk}/")
    token = client.cookies["csrftoken"].value
    sent = client.post(f"/api/v1/exports/results/{confirmed.pk}/nifti",
                       HTTP_X_CSRFTOKEN=token)
    assert sent.status_code == 200
    form = client.post("/api/v1/exports/seg", {"results": str(confirmed.pk), "type": "binary"},
                       HTTP_X_CSRFTOKEN=token)
    assert form.status_code == 200 and form["Content-Type"] == "application/dicom"
    assert ExportRecord.objects.count() == 2
