"""A protocol asking for a box plus the structure's first and last slice (``extent: required``):
the job submission carries both, the API refuses one without them or with a misplaced end
(400 naming the field), and the worker bounds the propagation by them and records them."""
import copy

import pytest

from annotations.models import Job, JobStatus
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def extent_entry(library, users):
    """The liver entry's settings as a new approved entry whose template asks for the extent."""
    from prompts.actions.versions import do_approve, do_create_entry, do_submit

    content = copy.deepcopy(library["liver-ct"].content)
    content.update(
        key="skull-extent-ct", name="Skull (extent)", synonyms=["skull with its extent"],
        structure={"category": {"code": "123037004", "scheme": "SCT",
                                "meaning": "Anatomical Structure"},
                   "type": {"code": "89546000", "scheme": "SCT", "meaning": "Skull"},
                   "laterality": None},
    )
    content["interaction"].update(
        extent="required", extent_tolerance_mm=3,
        placement="One box on the largest axial slice, and the first and last slice it shows on")
    version = do_create_entry(users["prompt_admin"], users["prompt_admin"].site, content)
    do_submit(users["prompt_admin"], version)
    return do_approve(users["prompt_admin_member"], version, password=PASSWORD)


def submit(client, series, version, box, key, extent=None):
    geometry = {"prompts": [{"slice": key, "box": box}]}
    if extent is not None:
        geometry["extent"] = extent
    return client.post("/api/v1/annotations/jobs",
                       {"series": series.pk, "prompt_version": version.pk, "geometry": geometry},
                       format="json")


def test_a_job_carries_the_first_and_last_slice_and_they_make_it_another_job(
        api_as, make_head_series, extent_entry):
    series, box, key = make_head_series(5)
    client = api_as("annotator")
    response = submit(client, series, extent_entry, box, key, {"first": 1, "last": 3})
    assert response.status_code == 201, response.json()
    assert response.json()["geometry"] == {"prompts": [{"slice": key, "box": box}],
                                           "extent": {"first": 1, "last": 3}}
    assert submit(client, series, extent_entry, box, key,
                  {"first": 1, "last": 3}).status_code == 200  # the same live job
    wider = submit(client, series, extent_entry, box, key, {"first": 0, "last": 4})
    assert wider.status_code == 201 and wider.json()["id"] != response.json()["id"]


@pytest.mark.parametrize("extent, message", [
    (None, "geometry: extent: This protocol asks for the structure's first and last slice"),
    ({"first": 1}, "geometry: extent.last: extent.last must be a whole slice number."),
    ({"first": 1, "last": 5},
     "geometry: extent.last: Slice 5 does not exist: this series has slices 0 to 4."),
    ({"first": 3, "last": 1}, "geometry: extent.last: The last slice (1) comes before the "
     "first (3)."),
    ({"first": 0, "last": 1}, "geometry: extent: The key slice 2 lies outside the marked first "
     "and last slice (0 to 1)"),
])
def test_a_submission_without_the_extent_or_with_a_misplaced_end_is_a_400_naming_the_field(
        api_as, make_head_series, extent_entry, extent, message):
    series, box, key = make_head_series(5)
    response = submit(api_as("annotator"), series, extent_entry, box, key, extent)
    assert response.status_code == 400
    (said,) = response.json()["geometry"]
    assert said.startswith(message.removeprefix("geometry: ")), said
    assert Job.objects.count() == 0


def test_an_extent_is_refused_where_the_protocol_does_not_ask_for_it(
        api_as, make_head_series, library):
    series, box, key = make_head_series(5)
    response = submit(api_as("annotator"), series, library["liver-ct"], box, key,
                      {"first": 0, "last": 4})
    assert response.status_code == 400
    assert response.json()["geometry"][0].startswith("extent: This protocol does not ask")


@pytest.mark.django_db(transaction=True)
def test_the_worker_propagates_only_between_the_marked_slices_and_records_them(
        api_as, make_head_series, extent_entry, celery_worker):
    from annotations import masks
    from tests.worker import wait_until

    series, box, key = make_head_series(6)  # the brain is on every slice; key is 3
    client = api_as("annotator")
    response = submit(client, series, extent_entry, box, key, {"first": 2, "last": 4})
    assert response.status_code == 201, response.json()
    job_id = response.json()["id"]
    job = wait_until(lambda: (j := Job.objects.get(public_id=job_id)).finished and j,
                     timeout=300, interval=0.5)
    assert job.status == JobStatus.SUCCEEDED, job.error
    result = client.get(f"/api/v1/annotations/results/{job.result.pk}").json()
    parameters = result["provenance"]["parameters"]
    assert parameters["extent"] == {"first": 2, "last": 4}
    assert parameters["options"]["extent"] == [2, 4]
    download = client.get(f"/api/v1/annotations/results/{job.result.pk}/mask")
    shape = tuple(int(v) for v in download["X-Mask-Shape"].split(","))
    mask = masks.decode(download.content, shape)
    covered = [int(i) for i in range(shape[0]) if mask[i].any()]
    assert covered == [2, 3, 4]


def test_a_correction_runs_within_the_extent_marked_as_of_its_base_version(ai_result):
    """The job's marked ends, moved out by a correction outside them (its version records the
    new extent), are what the next correction of that version stays within."""
    from annotations.corrections import marked_extent
    from annotations.models import MaskVersion

    result = ai_result
    assert marked_extent(result, result.latest_mask()) is None  # the liver asks for no extent
    result.provenance = {**result.provenance, "parameters": {"extent": {"first": 1, "last": 1}}}
    result.save(update_fields=["provenance"])
    original = result.latest_mask()
    assert marked_extent(result, original) == (1, 1)
    corrected = MaskVersion.objects.create(
        result=result, number=2, data=original.data, sha256=original.sha256,
        shape=original.shape, voxel_count=original.voxel_count, volume_ml=original.volume_ml,
        note="AI correction", provenance={"prompts": [{"slice": 2, "box": [1, 1, 9, 9]}],
                                          "extent": {"first": 1, "last": 2}})
    assert marked_extent(result, corrected) == (1, 2)
    assert marked_extent(result, original) == (1, 1)
