"""Issue 21: a failed action in the viewer reaches the user with the server's reason and what
to do next, instead of dying in an unhandled promise. Here the session ends under an open
viewer (its cookie is gone), so the server refuses the next requests for real (403)."""
import pytest

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
