"""The agreement check in the browser (issues 18 and 23): a draft is shown while its prompt-
agreement check is still running, with Confirm off and a note saying why; once the worker
records the check, its flag and figure appear and Confirm is enabled, without a reload."""

import pytest

from annotations import agreement
from annotations.models import Result
from tests.e2e.conftest import keep_screenshot, open_viewer

pytestmark = pytest.mark.django_db(transaction=True)


class Outcome:
    mean, flagged = 0.612, True


def test_confirm_waits_for_the_agreement_check_and_its_flag(page_as, live_server, ai_result):
    Result.objects.filter(pk=ai_result.pk).update(agreement_pending=True)
    page = page_as("annotator")
    open_viewer(page, live_server.url, ai_result.series_id)
    page.wait_for_selector("#result:not([hidden])")
    page.wait_for_selector(".agreement-pending")
    confirm = page.locator("#confirm-open")
    assert confirm.is_disabled()
    assert "agreement check is still running" in confirm.get_attribute("title")
    assert page.is_visible("#edit-tools")  # editing is not held up by the check
    keep_screenshot(page, "agreement-pending")

    agreement.record(ai_result.pk, Outcome(), seconds=0.1)
    page.wait_for_selector("#confirm-open:not([disabled])", timeout=10_000)
    flags = page.inner_text("#result-flags")
    assert "agrees only 0.61" in flags
    assert "Robustness agreement (Dice): 0.612" in flags
    assert page.locator(".agreement-pending").count() == 0
