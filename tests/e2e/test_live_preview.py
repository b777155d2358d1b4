"""The live preview in a real browser (issue 23): while the annotator drags the box, the mask
of the box as it is now appears over the slice, labelled as a preview, from a real worker and
without any job; Confirm is not offered for it. On Segment the worker's stored draft replaces
the preview, and only that draft can be confirmed."""
import numpy as np
import pytest

from annotations import masks
from annotations.models import Job, Result
from tests.conftest import PASSWORD
from tests.e2e.conftest import choose_protocol, keep_screenshot, wait_ready
from tests.e2e.test_annotate import page_box

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_preview_follows_the_drag_and_the_stored_draft_replaces_it(
    page_as, live_server, make_head_series, library, celery_worker
):
    series, box, key = make_head_series(3, patient="LIVE-1")
    page = page_as("annotator")
    page.goto(f"{live_server.url}/annotations/series/{series.pk}/")
    wait_ready(page)
    choose_protocol(page, "brain", "Brain")

    left, top, right, bottom = page_box(page, box)
    page.mouse.move(left, top)
    page.mouse.down()
    # Half-way: the first previews (the worker embeds the slice for the first one).
    page.mouse.move((left + right) / 2, (top + bottom) / 2, steps=6)
    page.wait_for_function("window.medsamViewer.live.stats.drawn > 0", timeout=120_000)
    drawn_before = page.evaluate("window.medsamViewer.live.stats.drawn")
    for step in range(1, 11):  # on to the far corner, as a hand drags
        page.mouse.move(left + (right - left) * (0.5 + step / 20),
                        top + (bottom - top) * (0.5 + step / 20))
        page.wait_for_timeout(60)
    page.wait_for_function(f"window.medsamViewer.live.stats.drawn > {drawn_before}",
                           timeout=60_000)
    # Drawn while the button is still down, distinct from a draft: a labelled preview image.
    assert page.locator("#prompt-layer image.preview-mask").count() == 1
    assert page.text_content("#prompt-layer .preview-label") == "Preview, not saved"
    assert page.is_hidden("#decision")  # nothing to confirm
    page.mouse.up()
    # The last preview is of the released box (the newest box is sent when the one in flight
    # answers).
    page.wait_for_function("""() => { const v = window.medsamViewer;
        const a = v.live.shown.box, b = v.layer.prompts[0].box;
        return a.every((x, i) => Math.abs(x - b[i]) < 0.01); }""", timeout=60_000)
    keep_screenshot(page, "live-preview")
    shown = page.evaluate("""() => { const s = window.medsamViewer.live.shown;
        return {slice: s.slice, origin: s.origin, shape: s.shape,
                pixels: Array.from(s.pixels)}; }""")
    assert shown["slice"] == key and sum(shown["pixels"]) > 500
    assert not Job.objects.filter(series=series).exists()  # previews make no job
    assert page.locator("#prompt-layer image.preview-mask").count() == 1  # kept until the draft

    page.click("#prompt-submit")
    page.wait_for_function("window.medsamViewer.results.timings.overlayResult !== null",
                           timeout=240_000)
    page.wait_for_function("!document.querySelector('#prompt-layer image.preview-mask')")
    assert page.evaluate("window.medsamViewer.live.shown") is None
    job = Job.objects.get(series=series)
    result = Result.objects.get(job=job)
    assert page.evaluate("window.medsamViewer.results.result.id") == result.pk
    # The draft's prompted slice is what the last preview showed for the released box (the
    # job's box is the released one, the last preview's a move or two before it).
    mask = masks.decode(result.latest_mask().data, tuple(result.latest_mask().shape))
    draft = mask[key].astype(bool)
    preview = np.zeros(draft.shape, bool)
    (row, col), (rows, cols) = shown["origin"], shown["shape"]
    preview[row:row + rows, col:col + cols] = np.array(shown["pixels"], bool).reshape(rows, cols)
    dice = 2 * (draft & preview).sum() / (draft.sum() + preview.sum())
    assert dice > 0.9, dice

    # Only the stored draft is confirmed: the signature names its mask version.
    page.wait_for_selector("#decision:not([hidden])")
    page.wait_for_function("!document.querySelector('#confirm-open').disabled", timeout=120_000)
    page.click("#confirm-open")
    page.fill("#sign-password", PASSWORD)
    page.click("#sign-submit")
    page.wait_for_function(
        "document.querySelector('#result-signature').textContent.includes('confirmed')",
        timeout=60_000)
    result.refresh_from_db()
    assert result.state == "confirmed"
    assert Result.objects.filter(series=series).count() == 1
