"""A real Celery worker process for tests, on the suite's broker and test database.

Tests that use it need committed data: mark them ``@pytest.mark.django_db(transaction=True)``.
"""
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from config.celery import ALL_QUEUES, app
from core import processes


def _broker_env(tmp: Path) -> dict:
    if settings.CELERY_BROKER_URL.startswith("filesystem://"):
        return {"MEDSAM_BROKER_DIR": str(tmp / "broker")}
    return {}


@pytest.fixture(scope="session")
def celery_worker(django_db_setup, django_db_blocker):
    """Start one worker for the session (queues default, cpu, gpu) and yield its hostname."""
    tmp = Path(tempfile.mkdtemp(prefix="medsam-worker-"))
    env = {
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "MEDSAM_TEST_DB_NAME": str(connection.settings_dict["NAME"]),
        "MEDSAM_WORKER_HEARTBEAT_SECONDS": "1",
        **_broker_env(tmp),
    }
    # The test process publishes to the same private broker as the worker consumes from.
    for key, value in env.items():
        if key.startswith("MEDSAM_BROKER"):
            os.environ[key] = value
    if "MEDSAM_BROKER_DIR" in env:
        options = app.conf.broker_transport_options
        for folder in ("data_folder_in", "data_folder_out"):
            options[folder] = str(Path(env["MEDSAM_BROKER_DIR"]) / "queue")
        options["processed_folder"] = str(Path(env["MEDSAM_BROKER_DIR"]) / "processed")
        for sub in ("queue", "processed"):
            (Path(env["MEDSAM_BROKER_DIR"]) / sub).mkdir(parents=True, exist_ok=True)
    else:
        with app.connection_for_write() as conn:
            for queue in ALL_QUEUES:
                if _queue_exists(conn, queue):
                    conn.default_channel.queue_purge(queue)
    hostname = f"pytest-{os.getpid()}@localhost"
    log = open(tmp / "worker.log", "wb")
    command = processes.celery_worker_command(hostname, ALL_QUEUES)
    proc = subprocess.Popen(
        command,
        cwd=settings.REPO_ROOT,
        env={**os.environ, **env, "PYTHONPATH": f"{settings.BACKEND_DIR}:{settings.REPO_ROOT}"},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    with django_db_blocker.unblock():
        _wait_for_heartbeat(hostname, proc, tmp / "worker.log")
    yield hostname
    processes.stop([proc])
    log.close()
    shutil.rmtree(tmp, ignore_errors=True)


def _queue_exists(conn, queue: str) -> bool:
    try:
        conn.default_channel.queue_declare(queue=queue, passive=True)
        return True
    except Exception:
        return False


def _wait_for_heartbeat(hostname: str, proc: subprocess.Popen, log: Path, timeout=60) -> None:
    from core.models import WorkerHeartbeat

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"worker exited with {proc.returncode}:\n{log.read_text()}")
        if WorkerHeartbeat.objects.filter(hostname=hostname).exists():
            return
        time.sleep(0.2)
    raise RuntimeError(f"worker sent no heartbeat within {timeout}s:\n{log.read_text()}")


def wait_until(predicate, timeout: float = 30, interval: float = 0.1):
    """Poll ``predicate`` until it returns something truthy; fail the test on timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    pytest.fail(f"condition not met within {timeout}s")
