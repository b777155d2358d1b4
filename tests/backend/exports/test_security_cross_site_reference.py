"""Issue 20: a reference SEG is laid over the importer's own copy of the series it names, never
over another site's copy of the same study (each site holds its own)."""
import io

import numpy as np
import pytest

from annotations import masks
from exports.models import ReferenceMask
from imaging.models import Series
from tests.backend.exports.conftest import box_mask

pytestmark = pytest.mark.django_db

LEFT = box_mask(slice(100, 140), slice(150, 190), slice(0, 3))


def upload(api_as, data: bytes, who: str):
    stream = io.BytesIO(data)
    stream.name = "reference.dcm"
    return api_as(who).post("/api/v1/exports/references", {"file": stream}, format="multipart")


@pytest.fixture
def other_site_copy(head_series, sites, users):
    """The other site holds its own copy of the home site's head series (the same files)."""
    from imaging.actions import do_ingest
    from prompts.actions.exchange import do_load_library
    from prompts.source import read_library

    entries, problems = read_library()
    assert not problems, problems
    do_load_library(sites["other"], entries)
    files = []
    for instance in head_series.instances.all():
        with instance.file.open("rb") as stream:
            files.append((f"{instance.sop_instance_uid}.dcm", stream.read()))
    report = do_ingest([(n, io.BytesIO(d), len(d)) for n, d in files], site=sites["other"],
                       actor=users["annotator_outsider"])
    assert {f["status"] for f in report.as_dict()["files"]} == {"imported"}, report.as_dict()
    return Series.objects.get(site=sites["other"])


def test_a_reference_seg_lands_on_the_importers_copy_only(head_series, other_site_copy,
                                                         make_result, api_as):
    exported = api_as("annotator").post(
        "/api/v1/exports/seg",
        {"results": [make_result(head_series, "kidney-left-ct", LEFT).pk]}, format="json")
    assert exported.status_code == 200
    response = upload(api_as, exported.content, "reviewer_outsider")
    assert response.status_code == 201, response.json()
    (reference,) = ReferenceMask.objects.all()
    assert reference.series == other_site_copy and reference.series != head_series
    np.testing.assert_array_equal(masks.decode(reference.data, tuple(reference.shape)), LEFT)
    # The home site's import of the same SEG lands on its own copy, beside the other one.
    assert upload(api_as, exported.content, "reviewer").status_code == 201
    assert {r.series_id for r in ReferenceMask.objects.all()} == {head_series.pk,
                                                                 other_site_copy.pk}
