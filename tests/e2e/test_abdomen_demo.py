"""The demo's promise in a real browser: on the abdominal CT with its reference masks, an
annotator picks "Liver", draws the one box the entry asks for on the key slice, a real worker
propagates it in 3D, and the result panel shows its Dice against the reference mask."""
import re

import numpy as np
import pytest

from annotations import masks
from annotations.models import Job, Result
from exports import demo
from exports.comparison import compare_result
from exports.models import ReferenceMask
from tests.e2e.conftest import choose_protocol, keep_screenshot, record_job_texts, wait_ready
from tests.e2e.test_annotate import page_box

pytestmark = pytest.mark.django_db(transaction=True)


def test_liver_on_the_abdominal_ct_shows_its_dice_against_the_reference(
    page_as, live_server, library, celery_worker, users
):
    assert demo.available(), "run scripts/bootstrap.sh: the reference data is missing"
    report = demo.load_abdomen_demo(users["site_admin"].site, users["site_admin"])
    series = report.series
    reference = ReferenceMask.objects.get(series=series, structure_key="liver-ct")
    truth = masks.decode(reference.data, tuple(reference.shape))
    key = int(np.argmax(truth.reshape(truth.shape[0], -1).sum(axis=1)))
    rows, cols = np.nonzero(truth[key])
    box = [int(cols.min()), int(rows.min()), int(cols.max()), int(rows.max())]

    page = page_as("annotator")
    page.goto(f"{live_server.url}/annotations/series/{series.pk}/")
    wait_ready(page)
    page.locator("#viewport").click()
    for _ in range(40):
        current = page.evaluate("window.medsamViewer.slice()")
        if current == key:
            break
        page.keyboard.press("ArrowDown" if current < key else "ArrowUp")
        page.wait_for_function(f"window.medsamViewer.slice() !== {current}")
    assert page.evaluate("window.medsamViewer.slice()") == key

    choose_protocol(page, "liver", "Liver")
    left, top, right, bottom = page_box(page, box)
    page.mouse.move(left, top)
    page.mouse.down()
    page.mouse.move(right, bottom, steps=6)
    page.mouse.up()
    record_job_texts(page)
    page.click("#prompt-submit")
    page.wait_for_function("window.medsamViewer.results.timings.overlayResult !== null",
                           timeout=420_000)
    # A propagation over the CT's slices takes seconds: the viewer shows how far it has got.
    texts = page.evaluate("window.jobTexts")
    counts = [int(m.group(1)) for t in texts
              if (m := re.match(r"Segmenting: (\d+) of (\d+) slices done", t))]
    assert counts and counts == sorted(counts), texts
    assert texts[-1].startswith("Done: ") and texts[-1].endswith(" slices segmented."), texts
    page.wait_for_function(
        "document.querySelector('#result-reference').textContent.includes('Dice')")
    keep_screenshot(page, "abdomen-liver")
    line = page.inner_text("#result-reference")
    shown = float(re.search(r"Dice against the reference mask: (\d\.\d{3})", line).group(1))

    job = Job.objects.get(series=series)
    assert job.status == "succeeded" and job.structure_key == "liver-ct"
    result = Result.objects.get(job=job)
    result_mask = masks.decode(result.latest_mask().data, tuple(result.latest_mask().shape))
    assert len({int(k) for k in np.nonzero(result_mask.any(axis=(1, 2)))[0]}) > 1  # 3D
    assert shown == pytest.approx(compare_result(result)["dice"], abs=1e-3)
    assert shown > 0.6, line
    assert "reference data from a package" in line
