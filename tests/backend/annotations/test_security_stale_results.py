"""Issue 20 item 8: a result made on a series that changed afterwards (a slice added while
its job ran) is stale: it cannot be confirmed or edited (409 with the reason), the result API
says so, and the result page shows it. It can still be rejected."""
import base64

import pytest
from django.db import transaction

from annotations import masks
from annotations.models import Result
from tests.backend.annotations.conftest import FIRST_SLICE, ct_files, ingest_files, store_draft
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def growing(head_ct, library, users, sites):
    """A 3-slice series with an AI draft stored on it, made as the worker makes it (the series'
    content read just before the volume), and the fourth slice of the same series, not yet
    ingested."""
    from annotations.actions import do_submit_job
    from annotations.series_shape import series_digest
    from imaging.models import Series

    files = ct_files(head_ct.hu[FIRST_SLICE:FIRST_SLICE + 4], head_ct.spacing_zyx, "GROW-1")
    ingest_files(files[:3], sites["home"], users["annotator"])
    series = Series.objects.get(study__patient__patient_id="GROW-1")
    with transaction.atomic():
        job, _ = do_submit_job(users["annotator"], series, library["liver-ct"],
                               {"prompts": [{"slice": 1, "box": [90, 100, 150, 140]}]})
        result = store_draft(job, 3, made_on=(series_digest(series), series.content_version))
    return result, files[3:]


def url(result, what=""):
    return f"/api/v1/annotations/results/{result.pk}{'/' + what if what else ''}"


def test_a_result_records_the_series_content_it_was_made_on(growing):
    from annotations.series_shape import series_digest

    result, _ = growing
    assert result.series_digest == series_digest(result.series)
    assert result.job.series_digest == result.series_digest
    assert result.series_content_version == result.series.content_version


def test_a_slice_added_after_the_run_makes_the_result_stale_and_unconfirmable(
        growing, api_as, sites, users):
    result, rest = growing
    client = api_as("annotator")
    body = client.get(url(result)).json()
    assert body["stale"] is False and body["stale_reason"] == ""

    # the 31st slice of the report: one more image, same series
    ingest_files(rest, sites["home"], users["annotator"])

    body = client.get(url(result)).json()
    assert body["stale"] is True
    assert "3 slices; the series now has 4" in body["stale_reason"]
    listed = client.get("/api/v1/annotations/results", {"series": result.series_id}).json()
    rows = listed["results"] if isinstance(listed, dict) else listed
    assert [r["stale"] for r in rows if r["id"] == result.pk] == [True]

    refused = client.post(url(result, "confirm"), {"version": 1, "password": PASSWORD},
                          format="json")
    assert refused.status_code == 409, refused.json()
    assert "series changed" in refused.json()["series"][0]
    result.refresh_from_db()
    assert result.state == "ai_draft" and result.signature is None

    edit = masks.decode(result.latest_mask().data, (3, 256, 256)).copy()
    edit[0, :10, :10] = 1
    saved = client.post(url(result, "versions"), {
        "base_version": 1, "data": base64.b64encode(masks.encode(edit)).decode()},
        format="json")
    assert saved.status_code == 409, saved.json()
    assert "series changed" in saved.json()["series"][0]
    assert result.mask_versions.count() == 1

    from django.test import Client

    browser = Client()
    browser.force_login(users["annotator"])
    html = browser.get(f"/annotations/results/{result.pk}/").content.decode()
    assert "STALE" in html and "Segment the structure again" in html

    # The way out: a stale draft can still be rejected.
    rejected = client.post(url(result, "reject"), {"version": 1, "password": PASSWORD,
                                                   "reason": "series grew"}, format="json")
    assert rejected.status_code == 200, rejected.json()
    assert Result.objects.get(pk=result.pk).state == "rejected"


def test_a_series_changed_between_prompt_and_run_makes_the_result_stale(
        head_ct, library, users, sites, api_as):
    """The worker loaded the grown series: the prompt was placed on other images."""
    from annotations.actions import do_submit_job
    from annotations.series_shape import series_digest
    from imaging.models import Series

    files = ct_files(head_ct.hu[FIRST_SLICE:FIRST_SLICE + 4], head_ct.spacing_zyx, "GROW-2")
    ingest_files(files[:3], sites["home"], users["annotator"])
    series = Series.objects.get(study__patient__patient_id="GROW-2")
    with transaction.atomic():
        job, _ = do_submit_job(users["annotator"], series, library["liver-ct"],
                               {"prompts": [{"slice": 1, "box": [90, 100, 150, 140]}]})
    ingest_files(files[3:], sites["home"], users["annotator"])
    with transaction.atomic():
        series.refresh_from_db()
        result = store_draft(job, 4, made_on=(series_digest(series), series.content_version))
    body = api_as("annotator").get(url(result)).json()
    assert body["stale"] is True
    assert "between the prompt and the run" in body["stale_reason"]
    refused = api_as("annotator").post(url(result, "confirm"),
                                       {"version": 1, "password": PASSWORD}, format="json")
    assert refused.status_code == 409
