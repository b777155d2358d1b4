"""The whole annotation in a real browser: log in, open a series, scroll, pick a structure by
typing, draw the box, watch the progress of a real worker on the default engine, see the
overlay on the screenshot, brush an edit, confirm with the password; then the database."""
import re

import numpy as np
import pytest

from annotations import masks
from annotations.models import Job, Result
from audit.models import AuditEntry, Signature
from tests.conftest import PASSWORD
from tests.e2e.conftest import (
    keep_screenshot,
    record_job_texts,
    screenshot_pixels,
    wait_ready,
)

pytestmark = pytest.mark.django_db(transaction=True)

BRAIN_RGB = (0xF7, 0xB6, 0xD2)  # the brain-ct entry's display colour, pink


def tinted(pixels: np.ndarray) -> np.ndarray:
    """Pixels the brain colour tints: the CT is grey (R = G = B); pink at half opacity lifts
    red above green by about 32 levels, which the yellow prompt box does not."""
    red, green = pixels[..., 0].astype(int), pixels[..., 1].astype(int)
    return (red - green) > 15


def page_box(page, box):
    """The image-pixel box as (left, top, right, bottom) in page coordinates."""
    x0, y0 = page.evaluate("([x, y]) => window.medsamViewer.layer.clientPoint(x, y)", box[:2])
    x1, y1 = page.evaluate("([x, y]) => window.medsamViewer.layer.clientPoint(x, y)", box[2:])
    return x0, y0, x1, y1


def test_an_annotator_segments_edits_and_confirms(
    page_as, live_server, make_head_series, library, celery_worker, users
):
    series, box, key = make_head_series(3)
    page = page_as("annotator")

    page.click("text=Worklist")
    row = page.locator(f"tr[data-series='{series.pk}']")
    assert "none" in row.inner_text()
    keep_screenshot(page, "worklist")
    row.locator("a.open").click()
    wait_ready(page)
    assert page.evaluate("window.medsamViewer.slice()") == key
    assert re.search(r"Im 2 / 3", page.inner_text("#corner-br"))
    assert page.inner_text("#marker-left") in "RL" and page.inner_text("#marker-top") in "AP"

    page.locator("#viewport").click()
    page.keyboard.press("ArrowDown")
    page.wait_for_function("document.querySelector('#corner-br').textContent.includes('Im 3')")
    page.mouse.wheel(0, -120)
    page.wait_for_function("document.querySelector('#corner-br').textContent.includes('Im 2')")
    assert page.evaluate("window.medsamViewer.slice()") == key

    page.fill("#prompt-search", "brain")
    page.wait_for_selector("#prompt-options li[role=option]")
    page.click("#prompt-options li[role=option]:has-text('Brain')")
    page.wait_for_selector("#prompt-chosen:not([hidden])")
    assert "where the brain looks" in page.inner_text("#prompt-chosen .instructions")
    rule = page.inner_text("#prompt-chosen .rule")
    assert "1 box on the axial plane" in rule and "largest cross-section" in rule
    assert page.locator("button[data-tool=prompt]").get_attribute("class") == "active"
    assert page.is_disabled("#prompt-submit")

    left, top, right, bottom = page_box(page, box)
    page.mouse.move(left, top)
    page.mouse.down()
    page.mouse.move((left + right) / 2, (top + bottom) / 2, steps=4)
    page.mouse.move(right, bottom, steps=4)
    page.mouse.up()
    assert "Ready" in page.inner_text("#prompt-status")
    record_job_texts(page)
    page.click("#prompt-submit")
    page.wait_for_function("window.medsamViewer.results.timings.overlayResult !== null",
                           timeout=240_000)
    texts = page.evaluate("window.jobTexts")
    # Three slices the worker has embedded (prefetch, preview, earlier tests) run between two
    # polls (100 ms): a poll that saw the job running said how far it was; the propagation's
    # progress over the abdominal CT is followed in test_abdomen_demo.py.
    running = [t for t in texts if t.startswith("Segmenting")]
    assert all(re.match(r"Segmenting: (starting…|\d of 3 slices done)", t) for t in running), texts
    assert texts[-1] == "Done: 3 slices segmented."
    assert page.evaluate("document.querySelector('#job-progress').value") == 1

    job = Job.objects.get(series=series)
    assert job.status == "succeeded" and job.engine == "litemedsam"
    assert job.geometry["prompts"][0]["slice"] == key
    drawn = job.geometry["prompts"][0]["box"]
    assert np.allclose(drawn, box, atol=1.5), (drawn, box)
    result = Result.objects.get(job=job)

    panel = page.inner_text("#result")
    assert "DRAFT" in panel and "litemedsam" in panel and "brain-ct v1" in panel
    assert page.is_visible("#draft-stamp")
    keep_screenshot(page, "overlay")
    viewport = page.locator("#viewport").bounding_box()
    region = (slice(int(top - viewport["y"]), int(bottom - viewport["y"])),
              slice(int(left - viewport["x"]), int(right - viewport["x"])))
    with_overlay = tinted(screenshot_pixels(page)[region]).mean()
    page.keyboard.press("o")
    without_overlay = tinted(screenshot_pixels(page)[region]).mean()
    page.keyboard.press("o")
    assert with_overlay > 0.2 and without_overlay < 0.01, (with_overlay, without_overlay)

    brush_row, brush_cols = 40, (20, 60)
    page.keyboard.press("d")
    start = page.evaluate("([x, y]) => window.medsamViewer.layer.clientPoint(x, y)",
                          [brush_cols[0], brush_row])
    end = page.evaluate("([x, y]) => window.medsamViewer.layer.clientPoint(x, y)",
                        [brush_cols[1], brush_row])
    page.mouse.move(*start)
    page.mouse.down()
    page.mouse.move(*end, steps=12)
    page.mouse.up()
    page.wait_for_function("!document.querySelector('#edit-save').disabled")
    page.click("#edit-save")
    page.wait_for_function(
        "document.querySelector('#edit-status').textContent.includes('Saved as version 2')")

    page.click("#confirm-open")
    assert "version 2" in page.inner_text("#sign-form").replace("\n", " ")
    page.fill("#sign-password", PASSWORD)
    page.click("#sign-submit")
    page.wait_for_function(
        "document.querySelector('#result h3 .state').textContent.includes('Confirmed')")
    assert not page.is_visible("#draft-stamp")
    assert "confirmed as accurate" in page.inner_text("#result-signature")
    keep_screenshot(page, "confirmed")

    result.refresh_from_db()
    assert result.state == "confirmed"
    versions = list(result.mask_versions.order_by("number"))
    assert [v.number for v in versions] == [1, 2]
    assert versions[0].created_by is None and versions[1].created_by == users["annotator"]
    original = masks.decode(versions[0].data, tuple(versions[0].shape))
    edited = masks.decode(versions[1].data, tuple(versions[1].shape))
    assert original.sum() > 500, "the model segmented almost nothing"
    changed = np.argwhere(original != edited)
    assert len(changed) > 50 and set(changed[:, 0]) == {key}
    assert edited[key, brush_row, brush_cols[0] + 5:brush_cols[1] - 5].all()
    assert not original[key, brush_row, brush_cols[0]:brush_cols[1]].any()
    assert result.final_version == versions[1]
    signature = Signature.objects.get(pk=result.signature_id)
    assert signature.meaning == "confirmed" and signature.content_sha256 == versions[1].sha256
    assert signature.signer == users["annotator"]
    actions = list(AuditEntry.objects.order_by("seq").values_list("action", flat=True))
    for expected in ("job.submit", "result.create", "mask.read", "mask.edit",
                     "signature.sign", "result.confirm"):
        assert expected in actions, (expected, actions)
    assert actions.index("mask.edit") < actions.index("signature.sign")
