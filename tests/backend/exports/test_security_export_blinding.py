"""Issue 20 item 1: QA blinding is one policy (``review.blinding``). While a blinded
independent QA reading is open, a reviewer who did not produce the result gets neither its
mask, nor its author, nor its state through any export route, the export pages or the jobs
API -- not only through the QA mask endpoint. After the verdict everything opens again."""
import base64

import pytest

from annotations import masks
from exports.models import ExportRecord
from review.actions import do_update_policy
from review.models import QAItem
from tests.backend.exports.conftest import box_mask
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

LEFT = box_mask(slice(100, 140), slice(150, 190), slice(0, 3))
LEFT_EDITED = box_mask(slice(96, 140), slice(150, 194), slice(0, 3))
RIGHT = box_mask(slice(100, 140), slice(60, 100), slice(1, 4))
FIRST_READER = "Dr. Annotator Owner"


@pytest.fixture
def blinded(head_series, make_result, users, sites, api_as):
    """A confirmed, edited left kidney in an open independent QA reading the reviewer has
    started (their own mask not stored yet), exported once by its annotator."""
    do_update_policy(users["site_admin"], sites["home"], {"review_mode": "independent"})
    result = make_result(head_series, "kidney-left-ct", LEFT, edit=LEFT_EDITED)
    item = QAItem.objects.get(result=result)
    assert item.mode == "independent" and item.is_open
    reviewer = api_as("reviewer")
    assert reviewer.post(f"/api/v1/review/items/{item.pk}/start").status_code == 200
    assert reviewer.get(f"/api/v1/review/items/{item.pk}/mask").status_code == 403
    exported = api_as("annotator").post(f"/api/v1/exports/results/{result.pk}/nifti")
    assert exported.status_code == 200
    return result, item


def test_the_api_exports_refuse_a_blinded_result(blinded, api_as):
    result, _ = blinded
    reviewer = api_as("reviewer")
    before = ExportRecord.objects.count()
    nifti = reviewer.post(f"/api/v1/exports/results/{result.pk}/nifti")
    assert nifti.status_code == 404, nifti.content[:300]
    seg = reviewer.post("/api/v1/exports/seg", {"results": [result.pk]}, format="json")
    assert seg.status_code == 404
    push = reviewer.post("/api/v1/exports/seg/push", {"results": [result.pk]}, format="json")
    assert push.status_code == 404
    assert reviewer.get(f"/api/v1/exports/results/{result.pk}/comparison").status_code == 404
    assert ExportRecord.objects.count() == before
    listed = reviewer.get("/api/v1/exports/", {"result": result.pk})
    assert listed.status_code == 200 and listed.json()["count"] == 0
    everything = reviewer.get("/api/v1/exports/").json()
    assert all(result.pk not in e["results"] for e in everything["results"])
    # The first reader keeps their exports.
    assert api_as("annotator").get("/api/v1/exports/", {"result": result.pk}).json()[
        "count"] == 1


def test_the_export_pages_refuse_a_blinded_result(blinded, browser_as):
    result, _ = blinded
    client = browser_as("reviewer")
    page = client.get(f"/exports/results/{result.pk}/")
    assert page.status_code == 403
    text = page.content.decode()
    assert FIRST_READER not in text and "edited by the clinician" not in text
    assert client.post(f"/exports/results/{result.pk}/nifti").status_code == 403
    assert client.post(f"/exports/results/{result.pk}/seg").status_code == 403
    assert client.post(f"/exports/results/{result.pk}/push").status_code == 403


def test_another_results_page_does_not_offer_or_list_the_blinded_one(
        blinded, head_series, make_result, browser_as):
    result, _ = blinded
    right = make_result(head_series, "kidney-right-ct", RIGHT, by="annotator_member")
    QAItem.objects.filter(result=right).update(state="agreed")  # its reading is over
    client = browser_as("reviewer")
    page = client.get(f"/exports/results/{right.pk}/")
    assert page.status_code == 200
    assert f'value="{result.pk}"' not in page.content.decode()
    # Ticking it by hand does not put it in the SEG either.
    ticked = client.post(f"/exports/results/{right.pk}/seg", {"with": [result.pk]})
    assert ticked.status_code == 403


def test_the_jobs_api_does_not_name_the_first_reader(blinded, head_series, api_as, users,
                                                     library):
    from annotations.actions import do_submit_job

    result, _ = blinded
    queued, _ = do_submit_job(users["annotator_member"], head_series, library["kidney-right-ct"], {
        "prompts": [{"slice": 1, "box": [10, 10, 60, 60]}]})
    reviewer = api_as("reviewer")
    listing = reviewer.get("/api/v1/annotations/jobs", {"series": head_series.pk})
    assert listing.status_code == 200
    ids = [j["id"] for j in listing.json()["results"]]
    assert str(result.job.public_id) not in ids
    assert str(queued.public_id) in ids  # a job with no result yet reveals no reading
    assert result.pk not in [j["result"] for j in listing.json()["results"]]
    detail = reviewer.get(f"/api/v1/annotations/jobs/{result.job.public_id}")
    assert detail.status_code == 404
    assert FIRST_READER not in listing.content.decode() + detail.content.decode()
    mine = api_as("annotator").get("/api/v1/annotations/jobs", {"series": head_series.pk})
    assert str(result.job.public_id) in [j["id"] for j in mine.json()["results"]]


def test_after_the_verdict_the_exports_open_again(blinded, api_as):
    result, item = blinded
    reviewer = api_as("reviewer")
    own = base64.b64encode(masks.encode(LEFT)).decode()
    stored = reviewer.post(f"/api/v1/review/items/{item.pk}/reader-mask", {"data": own},
                           format="json")
    assert stored.status_code == 200, stored.content[:300]
    # Their own mask stored, the confirmed mask is shown in QA, but the author is not yet:
    # the export (a SEG names its content creator) stays closed until the verdict.
    assert reviewer.post(f"/api/v1/exports/results/{result.pk}/nifti").status_code == 404
    verdict = reviewer.post(f"/api/v1/review/items/{item.pk}/verdict",
                            {"verdict": "agree", "password": PASSWORD}, format="json")
    assert verdict.status_code == 200, verdict.content[:300]
    assert reviewer.post(f"/api/v1/exports/results/{result.pk}/nifti").status_code == 200
    jobs = reviewer.get("/api/v1/annotations/jobs", {"series": result.series_id}).json()
    assert str(result.job.public_id) in [j["id"] for j in jobs["results"]]
