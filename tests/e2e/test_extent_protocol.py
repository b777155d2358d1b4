"""A protocol asking for a box plus the structure's first and last slice, in a real browser: on
the demo's abdominal CT an annotator picks the right adrenal gland, is refused Segment until
the first and last slice are marked around the boxes, marks them with "First slice here" /
"Last slice here", and a real worker propagates only between them."""
import numpy as np
import pytest

from annotations import masks
from annotations.models import Job, Result
from exports import demo
from exports.models import ReferenceMask
from model.protocol import standard_extent, standard_prompts
from tests.e2e.conftest import wait_ready
from tests.e2e.test_annotate import page_box

pytestmark = pytest.mark.django_db(transaction=True)


def go_to(page, target: int) -> None:
    page.evaluate("document.activeElement && document.activeElement.blur()")  # keys scroll
    for _ in range(60):
        current = page.evaluate("window.medsamViewer.slice()")
        if current == target:
            return
        page.keyboard.press("ArrowDown" if current < target else "ArrowUp")
        page.wait_for_function(f"window.medsamViewer.slice() !== {current}")
    assert page.evaluate("window.medsamViewer.slice()") == target


def test_the_right_adrenal_is_segmented_only_between_the_marked_slices(
    page_as, live_server, library, celery_worker, users
):
    assert demo.available(), "run scripts/bootstrap.sh: the reference data is missing"
    series = demo.load_abdomen_demo(users["site_admin"].site, users["site_admin"]).series
    reference = ReferenceMask.objects.get(series=series, structure_key="adrenal-gland-right-ct")
    truth = masks.decode(reference.data, tuple(reference.shape)).astype(bool)
    content = library["adrenal-gland-right-ct"].content
    prompts = standard_prompts(content, truth)
    first, last = standard_extent(content, truth)

    page = page_as("annotator")
    page.goto(f"{live_server.url}/annotations/series/{series.pk}/")
    wait_ready(page)
    page.fill("#prompt-search", "right adrenal")
    page.wait_for_selector("#prompt-options li[role=option]")
    page.click("#prompt-options li[role=option]:has-text('Right adrenal gland')")
    page.wait_for_selector("#prompt-extent:not([hidden])")
    assert "first and last slice" in page.inner_text("#prompt-chosen .rule")
    for index, box in prompts:
        go_to(page, index)
        left, top, right, bottom = page_box(page, box)
        page.mouse.move(left, top)
        page.mouse.down()
        page.mouse.move(right, bottom, steps=4)
        page.mouse.up()
    assert page.is_disabled("#prompt-submit")
    assert "Mark the structure's first and last slice" in page.inner_text("#prompt-status")

    go_to(page, first)
    page.click("#prompt-extent-first")
    go_to(page, last)
    page.click("#prompt-extent-last")
    assert page.inner_text("#prompt-extent-status") == (
        f"First slice: {first + 1} · last slice: {last + 1}")
    page.wait_for_function("!document.querySelector('#prompt-submit').disabled")
    page.click("#prompt-submit")
    page.wait_for_function("window.medsamViewer.results.timings.overlayResult !== null",
                           timeout=420_000)

    job = Job.objects.get(series=series)
    assert job.status == "succeeded", job.error
    assert job.geometry["extent"] == {"first": first, "last": last}
    result = Result.objects.get(job=job)
    assert result.provenance["parameters"]["extent"] == {"first": first, "last": last}
    mask = masks.decode(result.latest_mask().data, tuple(result.latest_mask().shape))
    covered = np.flatnonzero(mask.any(axis=(1, 2)))
    assert covered.size and first <= covered[0] and covered[-1] <= last
