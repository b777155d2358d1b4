"""Several machines' worth of processes on loopback: the web tier under gunicorn, two worker
processes bound to different queues, a Redis broker and a database of their own. Jobs reach the
worker bound to their queue; a killed worker's job is finished by the other worker; probes,
metrics, JSON logs and the audit chain hold up."""
import json
import time

import pytest

from tests.deploy.stack import Client, Stack, wait_for
from tests.model.head_ct import require_cranium
from tests.prometheus import metric

pytestmark = pytest.mark.worker


# "general" serves short tasks and CPU jobs; "gpu-pool" serves GPU jobs and, when idle, CPU
# jobs too: both bind cpu, so either can take over the other's CPU job.
POOLS = {"general": ["default", "cpu"], "gpu-pool": ["gpu", "cpu"]}


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    require_cranium()
    deployment = Stack(tmp_path_factory.mktemp("stack"))
    try:
        deployment.start_broker()
        deployment.seed_data = deployment.seed()
        deployment.start_web()
        deployment.hostnames = {
            name: deployment.start_worker(name, queues) for name, queues in POOLS.items()
        }
        yield deployment
    finally:
        deployment.stop()


def finished(client, job_id):
    job = client.get(f"/api/v1/annotations/jobs/{job_id}")
    return job if job["status"] in ("succeeded", "failed", "cancelled") else None


def test_jobs_and_tasks_reach_the_worker_bound_to_their_queue(stack):
    admin = Client(stack.url, "admin", stack.seed_data["password"])
    annotator = Client(stack.url, "annotator", stack.seed_data["password"])

    gpu_job = wait_for(lambda: finished(annotator, stack.seed_data["gpu_job"]), 300,
                       "the gpu job did not finish", interval=0.5)
    assert gpu_job["status"] == "succeeded", gpu_job["error"]
    assert gpu_job["queue"] == "gpu"
    assert gpu_job["worker"] == stack.hostnames["gpu-pool"]

    for _ in range(3):
        response = admin.post("/api/v1/core/probes", {})
        assert response.status_code == 201, response.text
        path = f"/api/v1/core/probes/{response.json()['id']}"
        probe = wait_for(lambda path=path: admin.get(path)["answered_by"], 60,
                         "the probe was not answered")
        assert probe == stack.hostnames["general"]  # only it consumes the default queue


def test_a_killed_workers_job_is_finished_by_the_other_worker(stack):
    annotator = Client(stack.url, "annotator", stack.seed_data["password"])
    series = stack.seed_data["series"]["STACK-CPU"]
    response = annotator.post("/api/v1/annotations/jobs", {
        "series": series["id"], "prompt_version": stack.seed_data["prompt_version"],
        "geometry": {"prompts": [{"slice": series["key"], "box": series["box"]}]},
    })
    assert response.status_code == 201, response.text
    job_id = response.json()["id"]
    assert response.json()["queue"] == "cpu"

    def running():
        job = annotator.get(f"/api/v1/annotations/jobs/{job_id}")
        return job if job["status"] == "running" and job["progress"]["done"] > 0 else None

    first = wait_for(running, 300, "the cpu job did not start", interval=0.1)
    doomed = next(n for n, h in stack.hostnames.items() if h == first["worker"])
    stack.kill9(doomed)
    survivor = stack.hostnames["gpu-pool" if doomed == "general" else "general"]

    job = wait_for(lambda: finished(annotator, job_id), 400, "the job was not finished",
                   interval=0.5)
    assert job["status"] == "succeeded", job["error"]
    assert job["worker"] == survivor
    assert job["attempts"] == 2
    assert any("was lost" in t["reason"] for t in job["transitions"])
    assert job["result"] is not None
    results = annotator.get(f"/api/v1/annotations/results?job={job_id}")
    assert annotator.get(f"/api/v1/annotations/results/{job['result']}")["state"] == "ai_draft"
    assert results is not None

    survivor_name = next(n for n, h in stack.hostnames.items() if h == survivor)
    worker_metrics = stack_get(stack.worker_url(survivor_name, "/metrics"))
    assert metric(worker_metrics, "medsam_worker_tasks_total", task="annotations.run_job",
                  outcome="succeeded") >= 1
    assert stack_get_status(stack.worker_url(survivor_name, "/livez")) == 200
    # The pool gets its worker back, as an orchestrator would restart it.
    stack.hostnames[doomed] = stack.start_worker(doomed, POOLS[doomed])


def test_metrics_logs_and_audit_chain_of_the_deployment(stack):
    text = stack_get(f"{stack.url}/metrics")
    for queue in ("gpu", "cpu"):
        assert metric(text, "medsam_job_duration_seconds_count", queue=queue,
                      engine="litemedsam", status="succeeded") >= 1
    assert metric(text, "medsam_jobs", queue="cpu", status="queued") == 0
    assert metric(text, "medsam_workers_alive", queue="gpu") == 1
    assert metric(text, "medsam_broker_messages", queue="gpu") == 0
    # Two gunicorn processes answered; the multiprocess folder adds them up.
    assert metric(text, "medsam_http_requests_total", method="POST",
                  route="/api/v1/annotations/jobs", status="201") >= 1

    logs = stack.logs()
    json_lines = [json.loads(line) for name, body in logs.items() if name != "redis.log"
                  for line in body.splitlines() if line.startswith("{")]
    access = [line for line in json_lines if line.get("logger") == "medsam.access"]
    assert any(line["route"] == "/api/v1/annotations/jobs/<uuid:public_id>" or
               "/api/v1/annotations/jobs" in line["route"] for line in access)
    assert {line["service"] for line in json_lines} >= {"web", "general", "gpu-pool"}
    for name, body in logs.items():
        for patient in ("STACK-CPU", "STACK-GPU"):
            assert patient not in body, f"{patient} in {name}"

    verified = stack.manage("audit_verify")
    assert verified.returncode == 0, verified.stderr
    assert "chain intact" in verified.stdout


def stack_get(url: str) -> str:
    import requests

    return requests.get(url, timeout=10).text


def stack_get_status(url: str) -> int:
    import requests

    time.sleep(0)
    return requests.get(url, timeout=10).status_code
