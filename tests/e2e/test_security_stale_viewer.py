"""Issue 20 item 8 in the browser: a draft made before a slice was added to its series shows a
STALE banner with the reason, and Confirm is disabled; another annotator's draft offers no
signing (only its owner signs)."""

import pytest
from django.db import transaction

from tests.backend.annotations.conftest import FIRST_SLICE, ct_files, ingest_files, store_draft
from tests.e2e.conftest import keep_screenshot, open_viewer

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_stale_draft_is_flagged_and_cannot_be_confirmed(page_as, live_server, head_ct,
                                                          library, users, sites):
    from annotations.actions import do_submit_job
    from annotations.series_shape import series_digest
    from imaging.models import Series

    files = ct_files(head_ct.hu[FIRST_SLICE:FIRST_SLICE + 4], head_ct.spacing_zyx, "GROW-E2E")
    ingest_files(files[:3], sites["home"], users["annotator"])
    series = Series.objects.get(study__patient__patient_id="GROW-E2E")
    with transaction.atomic():
        job, _ = do_submit_job(users["annotator"], series, library["liver-ct"],
                               {"prompts": [{"slice": 1, "box": [90, 100, 150, 140]}]})
        store_draft(job, 3, made_on=(series_digest(series), series.content_version))
    ingest_files(files[3:], sites["home"], users["annotator"])

    page = page_as("annotator")
    open_viewer(page, live_server.url, series.pk)
    page.wait_for_selector("#result:not([hidden])")
    page.wait_for_selector("#result-stale:not([hidden])")
    banner = page.inner_text("#result-stale")
    assert "STALE" in banner and "now has 4" in banner
    assert page.locator("#confirm-open").is_disabled()
    assert page.is_hidden("#edit-tools")
    keep_screenshot(page, "stale-draft")


def test_another_annotators_draft_offers_no_signing(page_as, live_server, ai_result):
    page = page_as("annotator_member")
    open_viewer(page, live_server.url, ai_result.series_id)
    page.wait_for_selector("#result:not([hidden])")
    assert "Draft of Dr. Annotator Owner" in page.inner_text("#result-flags")
    assert page.is_hidden("#decision") and page.is_hidden("#edit-tools")
    assert page.is_hidden("#result-stale")
