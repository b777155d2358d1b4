"""Submitting and cancelling jobs through the API (no worker needed: jobs stay queued)."""
import pytest

from annotations.models import Job, JobStatus
from audit.models import AuditEntry

pytestmark = pytest.mark.django_db


@pytest.fixture
def series_and_box(make_head_series):
    return make_head_series(4)


def submit(client, series, version, box, slice_index=2):
    return client.post(
        "/api/v1/annotations/jobs",
        {"series": series.pk, "prompt_version": version.pk,
         "geometry": {"prompts": [{"slice": slice_index, "box": box}]}},
        format="json",
    )


def test_it_creates_a_queued_job_and_returns_the_same_job_for_the_same_inputs(
    api_as, library, series_and_box
):
    series, box, key = series_and_box
    client = api_as("annotator")
    first = submit(client, series, library["liver-ct"], box, key)
    assert first.status_code == 201, first.json()
    body = first.json()
    assert body["status"] == "queued"
    assert body["engine"] == "litemedsam"
    assert body["queue"] == "cpu"
    assert body["progress"] == {"done": 0, "total": 4, "fraction": 0.0}
    again = submit(client, series, library["liver-ct"], box, key)
    assert again.status_code == 200
    assert again.json()["id"] == body["id"]
    assert Job.objects.count() == 1
    assert AuditEntry.objects.filter(action="job.submit").count() == 1


def test_it_explains_a_box_outside_the_image(api_as, library, series_and_box):
    series, box, key = series_and_box
    response = submit(api_as("annotator"), series, library["liver-ct"], [0, 0, 300, 40], key)
    assert response.status_code == 400
    assert response.json() == {
        "geometry": ["prompts[0].box: The box lies partly outside the image (256 x 256 pixels)."]
    }
    assert Job.objects.count() == 0


def test_it_refuses_a_slice_the_series_does_not_have(api_as, library, series_and_box):
    series, box, _ = series_and_box
    response = submit(api_as("annotator"), series, library["liver-ct"], box, 4)
    assert response.status_code == 400
    assert "Slice 4 does not exist" in response.json()["geometry"][0]


def test_it_refuses_a_protocol_for_another_modality(api_as, library, series_and_box):
    series, box, key = series_and_box
    response = submit(api_as("annotator"), series, library["brain-tumour-mr"], box, key)
    assert response.status_code == 400
    assert response.json()["prompt_version"] == [
        "This protocol is for MR images; the series is CT."
    ]


def test_it_refuses_a_prompt_version_that_is_not_approved(api_as, library, series_and_box,
                                                            users):
    from prompts.actions.versions import do_create_draft

    series, box, key = series_and_box
    draft = do_create_draft(users["prompt_admin"], library["liver-ct"])
    response = submit(api_as("annotator"), series, draft, box, key)
    assert response.status_code == 400
    assert "Only approved prompt versions" in response.json()["prompt_version"][0]


@pytest.mark.parametrize("role", ["reviewer", "prompt_admin", "auditor", "norole", None])
def test_only_annotators_start_jobs(api_as, library, series_and_box, role):
    series, box, key = series_and_box
    assert submit(api_as(role), series, library["liver-ct"], box, key).status_code == 403
    assert Job.objects.count() == 0


def test_an_annotator_of_another_site_can_neither_start_nor_see_jobs(api_as, library,
                                                                   series_and_box):
    series, box, key = series_and_box
    assert submit(api_as("annotator"), series, library["liver-ct"], box, key).status_code == 201
    outsider = api_as("annotator_outsider")
    assert submit(outsider, series, library["liver-ct"], box, key).status_code == 403
    assert outsider.get("/api/v1/annotations/jobs").json()["count"] == 0


def test_cancelling_a_queued_job_ends_it_with_a_transition_row(api_as, library, series_and_box):
    series, box, key = series_and_box
    client = api_as("annotator")
    job_id = submit(client, series, library["liver-ct"], box, key).json()["id"]
    response = client.post(f"/api/v1/annotations/jobs/{job_id}/cancel", {"reason": "wrong series"},
                           format="json")
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    detail = client.get(f"/api/v1/annotations/jobs/{job_id}").json()
    assert [t["to_status"] for t in detail["transitions"]] == ["queued", "cancelled"]
    assert detail["transitions"][1]["reason"] == "wrong series"
    again = client.post(f"/api/v1/annotations/jobs/{job_id}/cancel", {}, format="json")
    assert again.status_code == 400
    assert again.json() == {"status": ["The job has already cancelled."]}
    # A cancelled job does not block a new one with the same inputs.
    assert submit(client, series, library["liver-ct"], box, key).status_code == 201


def test_another_annotator_cannot_cancel_my_job(api_as, library, series_and_box):
    series, box, key = series_and_box
    job_id = submit(api_as("annotator"), series, library["liver-ct"], box, key).json()["id"]
    response = api_as("annotator_member").post(f"/api/v1/annotations/jobs/{job_id}/cancel")
    assert response.status_code == 403
    assert Job.objects.get().status == JobStatus.QUEUED


def test_it_filters_the_job_list(api_as, library, make_head_series):
    client = api_as("annotator")
    one, box, key = make_head_series(3, patient="P1")
    two, box2, key2 = make_head_series(3, patient="P2")
    submit(client, one, library["liver-ct"], box, key)
    submit(client, two, library["liver-ct"], box2, key2)
    assert client.get(f"/api/v1/annotations/jobs?series={one.pk}").json()["count"] == 1
    assert client.get("/api/v1/annotations/jobs?status=queued&user=me").json()["count"] == 2
    assert client.get("/api/v1/annotations/jobs?status=running").json()["count"] == 0


@pytest.mark.parametrize("query", ["series=abc", "study=1;drop", "user=x", "series=-1"])
def test_a_malformed_filter_is_a_400_that_names_it(api_as, query):
    response = api_as("annotator").get(f"/api/v1/annotations/jobs?{query}")
    assert response.status_code == 400
    assert query.split("=")[0] in response.json()
