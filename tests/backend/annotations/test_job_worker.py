"""Jobs end to end with a real worker process, broker and the LiteMedSAM engine on a real CT."""
import numpy as np
import pytest

from annotations import masks
from annotations.models import Job, JobStatus, MaskVersion, Result
from audit.models import AuditEntry
from tests.worker import wait_until

pytestmark = pytest.mark.django_db(transaction=True)


def submit(client, series, version, box, key):
    response = client.post(
        "/api/v1/annotations/jobs",
        {"series": series.pk, "prompt_version": version.pk,
         "geometry": {"prompts": [{"slice": key, "box": box}]}},
        format="json",
    )
    assert response.status_code == 201, response.json()
    return response.json()["id"]


def finished(job_id):
    job = Job.objects.get(public_id=job_id)
    return job if job.finished else None


def test_a_job_runs_on_the_worker_and_stores_a_result_with_provenance(
    api_as, library, make_head_series, celery_worker, head_ct
):
    from tests.model.head_ct import brain_mask

    series, box, key = make_head_series(6)
    client = api_as("annotator")
    job_id = submit(client, series, library["liver-ct"], box, key)

    job = wait_until(lambda: finished(job_id), timeout=300, interval=0.5)
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert job.worker == celery_worker
    assert job.attempts == 1
    body = client.get(f"/api/v1/annotations/jobs/{job_id}").json()
    assert body["progress"]["done"] == body["progress"]["total"] == 6
    assert [t["to_status"] for t in body["transitions"]] == ["queued", "running", "succeeded"]

    result = client.get(f"/api/v1/annotations/results/{body['result']}").json()
    provenance = result["provenance"]
    assert provenance["engine"] == "litemedsam"
    assert provenance["weights_sha256"] == library["liver-ct"].content["engine"]["weights_sha256"]
    assert provenance["prompt_version"]["key"] == "liver-ct"
    assert provenance["worker"] == celery_worker
    # How the engine computed on that worker: libraries and precisions (OpenVINO fp32 on CPU).
    assert provenance["runtime"]["encoder"].startswith("openvino ")
    assert provenance["runtime"]["decoder"].startswith("openvino ")
    assert len(provenance["code_version"]) >= 40
    assert result["state"] == "ai_draft"
    assert result["mask_versions"][0]["number"] == 1
    assert result["mask_versions"][0]["note"] == "AI original"
    # The liver protocol's volume range does not fit a slab of brain: flagged, not refused.
    assert "volume_out_of_range" in [f["code"] for f in result["flags"]]
    # The agreement check follows the stored result (annotations.agreement).
    result = wait_until(lambda: (r := client.get(f"/api/v1/annotations/results/{body['result']}")
                                 .json()) and not r["agreement_pending"] and r, timeout=60)
    assert 0.0 <= result["agreement"] <= 1.0

    download = client.get(f"/api/v1/annotations/results/{body['result']}/mask")
    assert download.status_code == 200
    shape = tuple(int(v) for v in download["X-Mask-Shape"].split(","))
    assert shape == (6, 256, 256)
    mask = masks.decode(download.content, shape)
    assert masks.content_sha256(mask) == download["X-Mask-SHA256"]
    # Real segmentation: the brain on the prompted slice, not an empty or full mask.
    truth = brain_mask(head_ct.hu[60 + key])
    assert masks.dice(mask[key], truth) > 0.8
    assert AuditEntry.objects.filter(action="result.create", object_id=str(body["result"])).exists()
    assert AuditEntry.objects.filter(action="mask.read").count() == 1


def test_a_running_job_can_be_cancelled(api_as, library, make_head_series, celery_worker):
    series, box, key = make_head_series(40)
    client = api_as("annotator")
    job_id = submit(client, series, library["liver-ct"], box, 20)
    wait_until(lambda: Job.objects.get(public_id=job_id).progress_done > 0, timeout=300)
    response = client.post(f"/api/v1/annotations/jobs/{job_id}/cancel", {"reason": "wrong box"},
                           format="json")
    assert response.status_code == 200
    job = wait_until(lambda: finished(job_id), timeout=120)
    assert job.status == JobStatus.CANCELLED
    assert job.progress_done < job.progress_total
    assert not Result.objects.filter(job=job).exists()


def test_a_job_whose_worker_is_killed_finishes_once_on_restart(
    api_as, library, make_head_series, without_session_worker, spawn_worker
):
    worker = spawn_worker("doomed", queues=["cpu"])
    series, box, key = make_head_series(16)
    client = api_as("annotator")
    job_id = submit(client, series, library["liver-ct"], box, 8)
    wait_until(lambda: Job.objects.get(public_id=job_id).progress_done > 0, timeout=300)
    worker.kill9()
    assert Job.objects.get(public_id=job_id).status == JobStatus.RUNNING

    worker.start()
    job = wait_until(lambda: finished(job_id), timeout=400, interval=0.5)
    assert job.status == JobStatus.SUCCEEDED, job.error + worker.log()[-3000:]
    assert job.worker == worker.hostname
    assert job.attempts == 2
    assert Result.objects.filter(job=job).count() == 1
    assert MaskVersion.objects.filter(result__job=job).count() == 1
    reasons = [t.reason for t in job.transitions.all()]
    assert any("was lost" in reason for reason in reasons), reasons


def test_a_job_that_keeps_failing_ends_failed_with_its_reason(
    api_as, library, make_head_series, celery_worker, settings
):
    from django.core.files.storage import default_storage

    series, box, key = make_head_series(3)
    for instance in series.instances.all():
        default_storage.delete(instance.file.name)
    job_id = submit(api_as("annotator"), series, library["liver-ct"], box, key)
    job = wait_until(lambda: finished(job_id), timeout=180, interval=0.5)
    assert job.status == JobStatus.FAILED
    assert job.attempts == settings.JOB_MAX_ATTEMPTS
    assert f"failed {settings.JOB_MAX_ATTEMPTS} times" in job.error
    assert "No such file" in job.error or "FileNotFoundError" in job.error
    assert not Result.objects.filter(job=job).exists()


def test_a_new_job_supersedes_an_unconfirmed_draft(
    api_as, library, make_head_series, celery_worker
):
    series, box, key = make_head_series(2)
    client = api_as("annotator")
    first_id = submit(client, series, library["liver-ct"], box, 0)
    first = wait_until(lambda: finished(first_id), timeout=300, interval=0.5)
    assert Result.objects.get(job=first).state == "ai_draft"
    moved = [box[0] + 2, box[1], box[2], box[3]]
    second_id = submit(client, series, library["liver-ct"], moved, 0)
    second = wait_until(lambda: finished(second_id), timeout=300, interval=0.5)
    assert Result.objects.get(job=first).state == "superseded"
    assert Result.objects.get(job=second).state == "ai_draft"
    checked = wait_until(lambda: Result.objects.filter(job=second, agreement_pending=False)
                         .first(), timeout=60)
    assert np.isfinite(checked.agreement)
