"""A QA reviewer reads a case in the viewer, in Chromium against the live server: the
show-mask reading (the confirmed mask on the canvas, the verdict signed in the browser) and
the independent reading (the reviewer's own mask stored first, its Dice shown, then the
verdict), each with the QA item's state in the database afterwards."""
import numpy as np
import pytest

from annotations.confirmation import do_confirm_result
from review.actions import do_update_policy
from review.models import QAItem
from tests.conftest import PASSWORD
from tests.e2e.conftest import keep_screenshot, screenshot_pixels, wait_ready

pytestmark = pytest.mark.django_db(transaction=True)

# ai_result's mask: rows 100-139, columns 90-149 on each of its 3 slices (256 x 256).
MASK_BOX = [90.0, 100.0, 150.0, 140.0]


@pytest.fixture
def qa_case(ai_result, users, sites):
    def make(mode: str) -> QAItem:
        do_update_policy(users["site_admin"], sites["home"], {"review_mode": mode})
        do_confirm_result(users["annotator"], ai_result, 1, PASSWORD)
        return QAItem.objects.get(result=ai_result)

    return make


def take_and_open(page, base_url: str, item: QAItem) -> list[str]:
    """Start the case on its page, follow its link into the viewer; the API URLs the viewer
    asked for, as they happen."""
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.on("pageerror", lambda error: print("pageerror:", error))  # shown when it fails
    page.goto(f"{base_url}/review/items/{item.pk}/")
    page.click("button:has-text('Read this case')")
    page.wait_for_selector("text=in review")
    page.click("a:has-text('Read this case in the viewer')")
    wait_ready(page)
    return requested


def page_box(page, box):
    x0, y0 = page.evaluate("([x, y]) => window.medsamViewer.layer.clientPoint(x, y)", box[:2])
    x1, y1 = page.evaluate("([x, y]) => window.medsamViewer.layer.clientPoint(x, y)", box[2:])
    return x0, y0, x1, y1


def region_of(page, box):
    viewport = page.locator("#viewport").bounding_box()
    left, top, right, bottom = page_box(page, box)
    return (slice(int(top - viewport["y"]) + 2, int(bottom - viewport["y"]) - 2),
            slice(int(left - viewport["x"]) + 2, int(right - viewport["x"]) - 2))


def overlay_shown(page, box) -> float:
    """How much the overlay changes the box's pixels: screenshots with and without it."""
    region = region_of(page, box)
    with_overlay = screenshot_pixels(page)[region]
    page.click("#qa-overlay")
    without = screenshot_pixels(page)[region]
    page.click("#qa-overlay")
    return float(np.abs(with_overlay - without).mean())


def sign(page, verdict: str, password: str, reason: str = "") -> None:
    page.check(f"input[name=qa-verdict][value={verdict}]")
    page.fill("#qa-reason", reason)
    page.fill("#qa-password", password)
    page.click("#qa-sign")


def test_a_show_mask_reading_shows_the_confirmed_mask_and_signs_the_verdict(
        page_as, live_server, qa_case):
    item = qa_case("show_mask")
    page = page_as("reviewer")
    requested = take_and_open(page, live_server.url, item)
    page.wait_for_function("window.medsamViewer.qa.confirmedShownAt > 0")
    assert "/annotations/results" not in " ".join(requested)  # only the QA item's endpoints
    assert any(url.endswith(f"/api/v1/review/items/{item.pk}/mask") for url in requested)
    assert "Blinded reading" in page.inner_text("#qa-blind")
    assert "Annotator Owner" not in page.content()
    keep_screenshot(page, "qa-show-mask")
    assert overlay_shown(page, MASK_BOX) > 5, "the confirmed mask is not on the canvas"
    assert page.is_hidden("#qa-draw") and page.is_visible("#qa-verdict")

    sign(page, "agree", "not my password")
    page.wait_for_function("document.querySelector('#qa-error').textContent.length > 0")
    assert "password" in page.inner_text("#qa-error").lower()
    assert QAItem.objects.get(pk=item.pk).state == "in_review"

    sign(page, "agree", PASSWORD)
    page.wait_for_function(
        "document.querySelector('#qa-status').textContent.includes('Verdict recorded')")
    assert page.inner_text("#qa-error") == ""
    assert page.is_hidden("#qa-verdict")
    assert "reviewed" in page.inner_text("#qa-status")
    keep_screenshot(page, "qa-show-mask-signed")
    item.refresh_from_db()
    assert item.state == "agreed" and item.verdict == "agree"
    assert item.review_signature.meaning == "reviewed"


def test_an_independent_reading_stores_the_own_mask_shows_dice_then_signs(
        page_as, live_server, qa_case):
    item = qa_case("independent")
    page = page_as("reviewer")
    requested = take_and_open(page, live_server.url, item)
    page.wait_for_selector("#qa-draw:not([hidden])")
    page.wait_for_selector("#prompt-chosen:not([hidden])")
    assert "liver" in page.inner_text("#prompt-chosen .instructions").lower()
    assert "1 box on the axial plane" in page.inner_text("#prompt-chosen .rule")
    assert page.is_hidden("#qa-verdict") and page.is_hidden("#qa-agreement")

    # The same protocol: one box on the key slice; the engine is refused to a reviewer, and
    # the viewer says how to go on by hand.
    left, top, right, bottom = page_box(page, MASK_BOX)
    page.mouse.move(left, top)
    page.mouse.down()
    page.mouse.move((left + right) / 2, (top + bottom) / 2, steps=4)
    page.mouse.move(right, bottom, steps=4)
    page.mouse.up()
    assert "Ready" in page.inner_text("#prompt-status")
    page.click("#prompt-submit")
    page.wait_for_function(
        "document.querySelector('#prompt-status').textContent.includes('not open to QA')")
    assert "Fill the drawn box" in page.inner_text("#prompt-status")
    page.click("#qa-fill-box")
    page.wait_for_function("!document.querySelector('#qa-undo').disabled")
    assert overlay_shown(page, MASK_BOX) > 5, "the reviewer's own mask is not on the canvas"
    # Blind so far: neither the confirmed mask nor any result of the series was asked for.
    assert not any(url.endswith("/mask") for url in requested), requested
    assert "/annotations/results" not in " ".join(requested)

    page.click("#qa-store")
    page.wait_for_selector("#qa-agreement:not([hidden])")
    table = page.inner_text("#qa-agreement-table")
    assert "Dice" in table and "Volume difference" in table and "mL" in table
    item.refresh_from_db()
    assert item.reader_mask_sha256 and item.reader_dice == pytest.approx(0.5, abs=0.02)
    assert f"{item.reader_dice:.3f}" in table
    assert "-66.7 %" in table or "-66." in table  # one slice of three
    page.wait_for_function("window.medsamViewer.qa.confirmedShownAt > 0")
    assert any(url.endswith(f"/api/v1/review/items/{item.pk}/mask") for url in requested)
    keep_screenshot(page, "qa-independent-stored")

    assert page.is_visible("#qa-verdict")
    assert page.is_hidden("#qa-draw") and page.is_hidden("#prompt-chosen")
    sign(page, "disagree", PASSWORD)  # no reason: refused before anything is sent
    assert "reason" in page.inner_text("#qa-error")
    sign(page, "disagree", PASSWORD, reason="misses the upper and lower slices")
    page.wait_for_function(
        "document.querySelector('#qa-status').textContent.includes('Verdict recorded')")
    item.refresh_from_db()
    assert item.state == "disagreed" and item.verdict == "disagree"
    assert item.verdict_reason == "misses the upper and lower slices"
