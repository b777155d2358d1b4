"""Issue 19 in the browser: a series whose source does not establish the orientation (the
demo head CT) shows no direction letters and a banner saying so; ordinary DICOM shows them."""
import io

import pytest

from tests.e2e.conftest import keep_screenshot, open_viewer
from tests.model.head_ct import require_cranium
from tests.model.imaging.dicom_builders import build_series, to_bytes

pytestmark = pytest.mark.django_db(transaction=True)
EDGES = ("top", "bottom", "left", "right")


def _ingest(files, sites, users):
    from imaging.actions import do_ingest

    do_ingest([(n, io.BytesIO(d), len(d)) for n, d in files], site=sites["home"],
              actor=users["annotator"])


def test_the_unestablished_head_ct_has_a_warning_and_no_letters_and_dicom_has_letters(
        page_as, live_server, users, sites):
    from imaging.demo import HEAD_PATIENT, head_ct_files
    from imaging.models import Series

    require_cranium()
    _ingest(list(head_ct_files()), sites, users)
    _ingest([(f"ct{k}.dcm", to_bytes(d)) for k, d in enumerate(build_series(3))], sites, users)
    head = Series.objects.get(study__patient__patient_id=HEAD_PATIENT)
    ordinary = Series.objects.exclude(pk=head.pk).get()

    page = page_as("annotator")
    open_viewer(page, live_server.url, head.pk)
    page.wait_for_selector("#orientation-warning")
    assert "Orientation not established by the source" in page.inner_text("#orientation-warning")
    assert page.is_visible("#orientation-warning")
    assert all(page.inner_text(f"#marker-{edge}").strip() == "" for edge in EDGES)
    keep_screenshot(page, "orientation-not-established")

    open_viewer(page, live_server.url, ordinary.pk)
    letters = {edge: page.inner_text(f"#marker-{edge}").strip() for edge in EDGES}
    assert letters["top"] == "A" and letters["bottom"] == "P"
    assert letters["left"] == "R" and letters["right"] == "L"
    assert page.locator("#orientation-warning").count() == 0
