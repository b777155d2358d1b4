"""The broker (a private redis-server on a free loopback port, no persistence) is killed while
one job runs and another is submitted, then started again: both jobs finish exactly once (one
result, one mask version each), and the audit chain stays valid. Lost messages come back through
the recovery sweep -- the application's tables, not the broker, hold the job state."""
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from annotations.models import Job, JobStatus, MaskVersion, Result
from config.celery import app
from tests.backend.annotations.conftest import ai_result  # noqa: F401 (fixture)
from tests.backend.annotations.test_job_worker import finished, submit
from tests.worker import WorkerProcess, redis_answers, wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]


class Redis:
    def __init__(self) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.dir = Path(tempfile.mkdtemp(prefix="medsam-redis-"))
        self.proc: subprocess.Popen | None = None
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [shutil.which("redis-server"), "--bind", "127.0.0.1", "--port", str(self.port),
             "--save", "", "--appendonly", "no", "--dir", str(self.dir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        wait_until(self.answers, timeout=20)

    def answers(self) -> bool:
        return redis_answers(self.port)

    def kill(self) -> None:
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()


def renew_broker_pools() -> None:
    """Drop this process's broker connections so the next publish uses the current URL (a
    closed pool left behind would fail every later publish of the session)."""
    app.pool.force_close_all()
    app._after_fork()


@pytest.fixture
def redis_broker(worker_env):
    if shutil.which("redis-server") is None:
        message = "redis-server is not installed (Debian: redis-server)"
        pytest.fail(message) if os.environ.get("CI") else pytest.skip(message)
    redis = Redis()
    redis.start()
    saved = app.conf.broker_url, app.conf.broker_transport_options
    app.conf.broker_url = redis.url
    app.conf.broker_transport_options = {"visibility_timeout": 3600}
    renew_broker_pools()
    env, tmp = worker_env
    worker_env_redis = {k: v for k, v in env.items() if k != "MEDSAM_BROKER_DIR"}
    worker_env_redis["CELERY_BROKER_URL"] = redis.url
    yield redis, worker_env_redis, tmp
    app.conf.broker_url, app.conf.broker_transport_options = saved
    renew_broker_pools()
    if redis.proc.poll() is None:
        redis.kill()
    shutil.rmtree(redis.dir, ignore_errors=True)


def test_jobs_survive_a_broker_restart_and_finish_once(
    redis_broker, api_as, library, make_head_series, settings
):
    from audit.verify import verify_chain
    from tests.worker import TIMING

    for _, setting, value in TIMING:
        setattr(settings, setting, value)
    redis, env, tmp = redis_broker
    worker = WorkerProcess(f"broker-restart-{os.getpid()}@localhost", env, tmp, ["cpu"])
    worker.start()
    try:
        series, box, key = make_head_series(12)
        client = api_as("annotator")
        running = submit(client, series, library["liver-ct"], box, key)
        wait_until(lambda: Job.objects.get(public_id=running).progress_done > 0, timeout=300)

        redis.kill()
        other_series, other_box, other_key = make_head_series(6, patient="HEAD-2")
        waiting = submit(client, other_series, library["liver-ct"], other_box, other_key)
        time.sleep(2)
        redis.start()

        jobs = [wait_until(lambda j=j: finished(j), timeout=400, interval=0.5)
                for j in (running, waiting)]
    finally:
        worker.stop()
    for job in jobs:
        assert job.status == JobStatus.SUCCEEDED, job.error + worker.log()[-3000:]
        assert Result.objects.filter(job=job).count() == 1
        assert MaskVersion.objects.filter(result__job=job).count() == 1
    chain = verify_chain()
    assert chain.intact, chain.message


def test_a_confirmation_while_the_broker_is_down_is_saved_and_answered(
    redis_broker, ai_result, users  # noqa: F811
):
    from rest_framework.test import APIClient

    from tests.conftest import PASSWORD

    redis, _, _ = redis_broker
    redis.kill()
    client = APIClient()
    client.force_login(users["annotator"])
    response = client.post(f"/api/v1/annotations/results/{ai_result.pk}/confirm",
                           {"version": 1, "password": PASSWORD}, format="json")
    assert response.status_code == 200, response.content[:300]
    assert Result.objects.get(pk=ai_result.pk).state == "confirmed"
