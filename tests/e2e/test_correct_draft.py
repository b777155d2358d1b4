"""Correcting an AI draft from one slice in a real browser (issue 18): the draft's owner
scrolls to a slice the draft misses, presses "Correct with a box", draws the box (and an
inside click), presses "Re-segment from this slice" and a real worker re-segments only the
affected run of slices with the real engine into a new version, which the viewer opens and
describes. Then the refusals the viewer shows: nothing drawn, an unsaved brush edit, and a
version saved meanwhile elsewhere (409 with the server's words)."""
import re

import numpy as np
import pytest
from django.db import transaction

from annotations import masks
from annotations.actions import do_submit_job
from annotations.confirmation import do_save_edit
from annotations.models import Job, MaskVersion, Result
from tests.backend.annotations.conftest import FIRST_SLICE, store_draft
from tests.e2e.conftest import keep_screenshot, open_viewer, screenshot_pixels
from tests.model.head_ct import box_of, brain_mask

pytestmark = pytest.mark.django_db(transaction=True)

SLICES = 10
MISSED_FROM = 7  # the draft lost the brain from this slice up, as a propagation stopping early
CORRECT_ON = 8


def tinted(pixels: np.ndarray) -> np.ndarray:
    """Pixels the brain entry's pink tints (the CT is grey; the yellow prompt box is not)."""
    return (pixels[..., 0].astype(int) - pixels[..., 1].astype(int)) > 15


def page_point(page, x, y):
    return page.evaluate("([x, y]) => window.medsamViewer.layer.clientPoint(x, y)", [x, y])


def drag_box(page, box):
    left, top = page_point(page, box[0], box[1])
    right, bottom = page_point(page, box[2], box[3])
    page.mouse.move(left, top)
    page.mouse.down()
    page.mouse.move((left + right) / 2, (top + bottom) / 2, steps=4)
    page.mouse.move(right, bottom, steps=4)
    page.mouse.up()
    return left, top, right, bottom


def go_to_slice(page, index: int):
    page.evaluate("(i) => window.medsamViewer.stage.viewport.setImageIdIndex(i)", index)
    page.wait_for_function(f"window.medsamViewer.slice() === {index}")


def mask_of(client, result: Result, number: int) -> np.ndarray:
    response = client.get(f"/api/v1/annotations/results/{result.pk}/mask?version={number}")
    assert response.status_code == 200
    shape = tuple(int(v) for v in response["X-Mask-Shape"].split(","))
    return masks.decode(response.content, shape)


def a_draft_missing_its_upper_slices(series, key, box, library, users, head_ct):
    """The brain on SLICES slices, then an edit that clears it from MISSED_FROM on: the
    draft's owner now corrects a draft whose upper run is wrong."""
    truth = np.stack([brain_mask(head_ct.hu[FIRST_SLICE + i]) for i in range(SLICES)])
    with transaction.atomic():  # stored before the job's message goes out to the worker
        job, _ = do_submit_job(users["annotator"], series, library["brain-ct"],
                               {"prompts": [{"slice": key, "box": box}]})
        result = store_draft(job, SLICES)
    draft = truth.astype(np.uint8)
    draft[MISSED_FROM:] = 0
    base = do_save_edit(users["annotator"], result, 1, draft, "the upper slices were missed")
    return result, truth, base.number


def test_an_annotator_corrects_a_draft_from_one_slice(
    page_as, live_server, make_head_series, library, celery_worker, users, head_ct, api_as
):
    series, box, key = make_head_series(SLICES)
    result, truth, base = a_draft_missing_its_upper_slices(series, key, box, library, users,
                                                           head_ct)
    page = page_as("annotator")
    open_viewer(page, live_server.url, series.pk, result.pk)
    page.wait_for_function(f"window.medsamViewer.results.shownVersion === {base}")
    assert page.is_visible("#edit-tools") and page.is_visible("#correct-start")
    go_to_slice(page, CORRECT_ON)

    page.click("#correct-start")
    page.wait_for_selector("#correct-submit:not([hidden])")
    assert page.is_disabled("#correct-submit")
    assert "Draw a box" in page.inner_text("#correct-status")
    assert page.locator("button[data-tool=prompt]").get_attribute("class") == "active"
    # The normal prompt panel's Segment stays off while a correction is drawn.
    assert page.is_disabled("#prompt-submit")

    corrected_box = [float(v) for v in box_of(truth[CORRECT_ON])]
    left, top, right, bottom = drag_box(page, corrected_box)
    centre = page_point(page, (corrected_box[0] + corrected_box[2]) / 2,
                        (corrected_box[1] + corrected_box[3]) / 2)
    page.mouse.click(*centre)  # a click with the box drawn: an inside point
    status = page.inner_text("#correct-status")
    assert "Ready: a box and 1 click on slice 9" in status, status
    assert not page.is_disabled("#correct-submit")

    page.click("#correct-submit")
    new = base + 1
    page.wait_for_function(
        f"window.medsamViewer.results.timings.overlayVersion === {new}", timeout=300_000)
    page.wait_for_function(
        "document.querySelector('#correct-status').textContent.includes('re-segmented')")

    job = Job.objects.get(corrects=result)
    assert job.status == "succeeded", job.error
    prompt = job.geometry["prompts"][0]
    assert prompt["slice"] == CORRECT_ON and len(job.geometry["prompts"]) == 1
    assert np.allclose(prompt["box"], corrected_box, atol=1.5), (prompt["box"], corrected_box)
    assert len(prompt["points"]) == 1 and prompt["points"][0][2] == 1

    version = MaskVersion.objects.get(result=result, number=new)
    first, last = version.provenance["slices"]
    assert first <= CORRECT_ON <= last
    # The viewer shows the new version, says what changed, and marks it in the version list.
    assert page.evaluate("window.medsamViewer.results.shownVersion") == new
    assert page.evaluate("window.medsamViewer.slice()") == CORRECT_ON
    which = (f"Slice {first + 1}" if first == last else f"Slices {first + 1} to {last + 1}")
    assert page.inner_text("#correct-status") == f"{which} re-segmented; version {new}."
    shown = page.inner_text("#result-versions li.shown")
    assert f"v{new} (AI correction)" in shown and version.note in shown, shown
    assert re.match(rf"AI correction from slice {CORRECT_ON + 1}: slices \d+ to \d+ re-segmented",
                    version.note)
    assert page.is_visible("#correct-start") and not page.is_visible("#correct-submit")
    keep_screenshot(page, "corrected")

    viewport = page.locator("#viewport").bounding_box()
    region = (slice(int(top - viewport["y"]), int(bottom - viewport["y"])),
              slice(int(left - viewport["x"]), int(right - viewport["x"])))
    assert tinted(screenshot_pixels(page)[region]).mean() > 0.2

    client = api_as("annotator")
    before, after = mask_of(client, result, base), mask_of(client, result, new)
    assert not before[CORRECT_ON].any() and after[CORRECT_ON].sum() > 500
    assert masks.dice(after[CORRECT_ON], truth[CORRECT_ON]) > 0.7
    outside = [i for i in range(SLICES) if not first <= i <= last]
    np.testing.assert_array_equal(after[outside], before[outside])
    assert Result.objects.get(pk=result.pk).state == "edited"


def test_the_viewer_refuses_a_correction_it_cannot_send(
    page_as, live_server, ai_result, users, api_as
):
    page = page_as("annotator")
    open_viewer(page, live_server.url, ai_result.series_id, ai_result.pk)
    page.wait_for_function("window.medsamViewer.results.shownVersion === 1")

    # An unsaved brush stroke first: a correction starts from a saved version.
    page.locator("#viewport").click()
    page.keyboard.press("d")
    start, end = page_point(page, 20, 40), page_point(page, 60, 40)
    page.mouse.move(*start)
    page.mouse.down()
    page.mouse.move(*end, steps=8)
    page.mouse.up()
    page.wait_for_function("!document.querySelector('#edit-save').disabled")
    page.click("#correct-start")
    assert "Save or undo your brush edit first" in page.inner_text("#correct-status")
    assert not page.is_visible("#correct-submit")
    page.click("#edit-undo")
    page.wait_for_function("document.querySelector('#edit-save').disabled")

    page.click("#correct-start")
    page.wait_for_selector("#correct-submit:not([hidden])")
    # Nothing drawn, then a click without a box: still nothing to send.
    assert page.is_disabled("#correct-submit")
    page.mouse.click(*page_point(page, 120, 120))
    assert page.is_disabled("#correct-submit")
    assert "Draw a box" in page.inner_text("#correct-status")

    drag_box(page, [95, 105, 145, 135])
    assert not page.is_disabled("#correct-submit")
    # Meanwhile the draft moves on elsewhere (another tab saves version 2).
    mask = masks.decode(bytes(ai_result.latest_mask().data), (3, 256, 256)).copy()
    mask[0] = 0
    do_save_edit(users["annotator"], ai_result, 1, mask, "saved in another tab")
    page.click("#correct-submit")
    page.wait_for_function(
        "document.querySelector('#correct-status').className === 'error'")
    refused = page.inner_text("#correct-status")
    assert "Version 1 is not the latest (version 2 is)" in refused, refused
    assert "Open the latest version" in refused
    assert not Job.objects.filter(corrects=ai_result).exists()
    # Still in correction mode with the box, until the user leaves it.
    assert page.is_visible("#correct-submit")
    page.click("#correct-cancel")
    assert page.is_visible("#correct-start") and not page.is_visible("#correct-submit")
    assert page.inner_text("#correct-status") == ""
    assert page.evaluate("window.medsamViewer.layer.prompts.length") == 0
    # The normal prompt panel again: no structure chosen, nothing to segment.
    assert page.is_disabled("#prompt-submit")
