"""Issue 21: a failed action in the viewer reaches the user with the server's reason and what
to do next, instead of dying in an unhandled promise: the session ending under an open viewer
(its cookie is gone, so the server refuses the next requests for real, 403), and a stored
mask that does not fit its series."""
import pytest
from django.db import transaction

from tests.backend.annotations.conftest import store_draft
from tests.e2e.conftest import keep_screenshot, open_viewer

pytestmark = pytest.mark.django_db(transaction=True)

SIGNED_OUT = "Authentication credentials were not provided."


def test_a_refused_search_and_a_refused_open_say_why_and_what_to_do(page_as, live_server,
                                                                    ai_result):
    page = page_as("annotator")
    unhandled = []
    page.on("pageerror", lambda error: unhandled.append(str(error)))
    open_viewer(page, live_server.url, ai_result.series_id)
    page.wait_for_selector("#result:not([hidden])")
    assert page.is_hidden("#result-error")

    page.context.clear_cookies()

    page.fill("#prompt-search", "liver")
    problem = page.wait_for_selector("#prompt-options li.error[role=alert]")
    text = problem.inner_text()
    assert text.startswith("Searching the prompt library failed:")
    assert SIGNED_OUT in text and "reload the page and sign in again" in text
    keep_screenshot(page, "search-refused")

    page.click(f"#result-list button[data-result='{ai_result.pk}']")
    page.wait_for_selector("#result-error:not([hidden])")
    text = page.inner_text("#result-error")
    assert text.startswith(f"Opening result {ai_result.pk} failed:")
    assert SIGNED_OUT in text and "reload the page and sign in again" in text
    # The result that was open stays on screen, as it was.
    assert page.is_visible("#result") and "DRAFT" in page.inner_text("#result h3 .state")
    assert unhandled == []


def test_a_mask_that_does_not_fit_its_series_is_reported_and_the_viewer_still_works(
    page_as, live_server, make_head_series, library, users
):
    from annotations.actions import do_submit_job

    series, box, key = make_head_series(3)
    with transaction.atomic():
        job, _ = do_submit_job(users["annotator"], series, library["liver-ct"],
                               {"prompts": [{"slice": key, "box": box}]})
        # Two slices of mask for a series of three, on the current series (not stale).
        broken = store_draft(job, 2)

    page = page_as("annotator")
    unhandled = []
    page.on("pageerror", lambda error: unhandled.append(str(error)))
    open_viewer(page, live_server.url, series.pk)
    page.wait_for_selector("#result-error:not([hidden])")
    text = page.inner_text("#result-error")
    assert text.startswith(f"Opening result {broken.pk} failed: The mask (2,256,256) does not "
                           "fit the series (3,256,256).")
    assert "report this result to your site administrator" in text
    assert page.is_hidden("#result")
    assert page.locator(f"#result-list button[data-result='{broken.pk}']").count() == 1
    # The viewer itself works: the picker finds entries.
    page.fill("#prompt-search", "brain")
    page.wait_for_selector("#prompt-options li[role=option]")
    keep_screenshot(page, "mask-does-not-fit")
    assert unhandled == []
