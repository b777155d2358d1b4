"""Signing from the viewer without running a model: a stored AI draft on a real head CT."""
import re

import pytest

from annotations.models import Result
from audit.models import AuditEntry, Signature
from tests.conftest import PASSWORD
from tests.e2e.conftest import keep_screenshot, open_viewer, screenshot_pixels

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_wrong_password_refuses_the_confirmation_and_a_reason_is_needed_to_reject(
    page_as, live_server, ai_result
):
    page = page_as("annotator")
    open_viewer(page, live_server.url, ai_result.series_id)
    page.wait_for_selector("#result:not([hidden])")
    assert "DRAFT" in page.inner_text("#result h3 .state")
    assert page.is_visible("#draft-stamp")
    keep_screenshot(page, "draft")

    page.click("#confirm-open")
    assert "confirmed as accurate" in page.inner_text("#sign-meaning")
    page.fill("#sign-password", "not my password")
    page.click("#sign-submit")
    page.wait_for_function("document.querySelector('#sign-error').textContent.length > 0")
    keep_screenshot(page, "wrong-password")
    assert page.is_visible("#sign-dialog")
    ai_result.refresh_from_db()
    assert ai_result.state == "ai_draft" and Signature.objects.count() == 0
    assert AuditEntry.objects.filter(action="signature.refused").count() == 1
    page.click("#sign-cancel")

    page.click("#reject-open")
    page.fill("#sign-password", PASSWORD)
    page.click("#sign-submit")
    assert "reason" in page.inner_text("#sign-error").lower()
    page.fill("#sign-reason", "box drawn on the wrong organ")
    page.click("#sign-submit")
    page.wait_for_function(
        "document.querySelector('#result h3 .state').textContent.includes('Rejected')")
    assert not page.is_visible("#draft-stamp")
    result = Result.objects.get(pk=ai_result.pk)
    assert result.state == "rejected"
    assert result.signature.meaning == "rejected"
    assert result.signature.reason == "box drawn on the wrong organ"
    assert "rejected" in page.inner_text("#result-signature")


def test_a_reviewer_sees_the_result_read_only_and_cannot_confirm(page_as, live_server, ai_result):
    page = page_as("reviewer")
    open_viewer(page, live_server.url, ai_result.series_id)
    page.wait_for_selector("#result:not([hidden])")
    assert page.is_visible(".readonly-note")
    assert page.locator("#prompt-search").count() == 0
    assert page.is_hidden("#decision") and page.is_hidden("#edit-tools")
    assert page.locator("button[data-tool=brush]").is_disabled()
    keep_screenshot(page, "reviewer")
    pixels = screenshot_pixels(page)
    assert pixels.std() > 10, "the CT image is not on screen"
    status = page.evaluate(
        """async (id) => (await fetch(`/api/v1/annotations/results/${id}/confirm`, {
            method: "POST", credentials: "same-origin",
            headers: {"Content-Type": "application/json",
                      "X-CSRFToken": document.querySelector("#viewer-app").dataset.csrf},
            body: JSON.stringify({version: 1, password: "correct horse battery 9"})})).status""",
        ai_result.pk,
    )
    assert status == 403
    assert Result.objects.get(pk=ai_result.pk).state == "ai_draft"
    assert re.search(r"Im \d+ / 3", page.inner_text("#corner-br"))
