"""Real Celery worker processes for tests, on the suite's broker and test database.

Tests that use them need committed data: mark them ``@pytest.mark.django_db(transaction=True)``.
``celery_worker`` is one worker for the whole session; ``spawn_worker`` starts private ones a
test may kill (``kill -9``) and restart.
"""
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from config.celery import ALL_QUEUES, app
from core import processes
from core.broker import folder_options

# Quick heartbeats and sweeps so recovery after a killed worker happens within seconds.
# (environment variable, setting, value)
TIMING = [
    ("MEDSAM_WORKER_HEARTBEAT_SECONDS", "CELERY_WORKER_HEARTBEAT_SECONDS", 1),
    ("MEDSAM_WORKER_STALE_SECONDS", "CELERY_WORKER_STALE_SECONDS", 6),
    ("MEDSAM_JOB_SWEEP_SECONDS", "JOB_SWEEP_SECONDS", 2),
    ("MEDSAM_JOB_REPUBLISH_AFTER", "JOB_REPUBLISH_AFTER_SECONDS", 20),
    ("MEDSAM_AGREEMENT_REPUBLISH_AFTER", "AGREEMENT_REPUBLISH_AFTER_SECONDS", 5),
]
WORKER_TIMING = {variable: str(value) for variable, _, value in TIMING}


class WorkerProcess:
    def __init__(self, hostname: str, env: dict, log_dir: Path, queues=ALL_QUEUES) -> None:
        self.hostname, self.env, self.queues = hostname, env, queues
        self.log_path = log_dir / f"{hostname.split('@')[0]}.log"
        self.proc: subprocess.Popen | None = None

    def start(self, wait: bool = True) -> "WorkerProcess":
        from core.models import WorkerHeartbeat

        started_after = WorkerHeartbeat.objects.filter(hostname=self.hostname).values_list(
            "started_at", flat=True
        ).first()
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            processes.celery_worker_command(self.hostname, self.queues),
            cwd=settings.REPO_ROOT,
            env={**os.environ, **self.env,
                 "PYTHONPATH": f"{settings.BACKEND_DIR}:{settings.REPO_ROOT}"},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        if wait:
            self.wait_for_heartbeat(started_after)
        return self

    def wait_for_heartbeat(self, started_after=None, timeout: float = 90) -> None:
        from core.models import WorkerHeartbeat

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"worker exited with {self.proc.returncode}:\n{self.log()}")
            beats = WorkerHeartbeat.objects.filter(hostname=self.hostname)
            if started_after is not None:
                beats = beats.filter(started_at__gt=started_after)
            if beats.exists():
                return
            time.sleep(0.2)
        raise RuntimeError(f"worker sent no heartbeat within {timeout}s:\n{self.log()}")

    def kill9(self) -> None:
        """Kill the worker like a crash would: no warm shutdown, no acknowledgement."""
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            processes.stop([self.proc])

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def _private_broker(tmp: Path) -> dict:
    """The environment that points workers (and this process) at the suite's broker."""
    if not settings.CELERY_BROKER_URL.startswith("filesystem://"):
        with app.connection_for_write() as conn:
            for queue in ALL_QUEUES:
                if _queue_exists(conn, queue):
                    conn.default_channel.queue_purge(queue)
        return {}
    broker = tmp / "broker"
    app.conf.broker_transport_options.update(folder_options(broker))
    for sub in ("queue", "processed", "control"):
        (broker / sub).mkdir(parents=True, exist_ok=True)
    os.environ["MEDSAM_BROKER_DIR"] = str(broker)
    return {"MEDSAM_BROKER_DIR": str(broker)}


def _queue_exists(conn, queue: str) -> bool:
    try:
        conn.default_channel.queue_declare(queue=queue, passive=True)
        return True
    except Exception:
        return False


@pytest.fixture(scope="session")
def worker_env(django_db_setup):
    tmp = Path(tempfile.mkdtemp(prefix="medsam-workers-"))
    env = {
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "MEDSAM_TEST_DB_NAME": str(connection.settings_dict["NAME"]),
        "MEDSAM_MEDIA_ROOT": str(settings.MEDIA_ROOT),
        **WORKER_TIMING,
        **_private_broker(tmp),
        # Each worker's HTTP endpoint on loopback, any free port (the live preview).
        "MEDSAM_WORKER_HTTP_PORT": "auto",
        "MEDSAM_WORKER_HTTP_HOST": "127.0.0.1",
        # Workers start and stop often here, some to be killed; each loads its engine when a
        # job first needs it (test_preload.py starts one that preloads).
        "MEDSAM_PRELOAD_ENGINES": "0",
    }
    yield env, tmp
    shutil.rmtree(tmp, ignore_errors=True)


_session_workers: list[WorkerProcess] = []


@pytest.fixture(scope="session")
def celery_worker(worker_env, django_db_blocker):
    """One worker for the session (queues default, cpu, gpu); yields its hostname."""
    env, tmp = worker_env
    worker = WorkerProcess(f"pytest-{os.getpid()}@localhost", env, tmp)
    with django_db_blocker.unblock():
        worker.start()
    _session_workers.append(worker)
    yield worker.hostname
    _session_workers.remove(worker)
    worker.stop()


@pytest.fixture
def without_session_worker():
    """Stop the session's worker (if it runs) for one test, so that only the test's own
    workers take its jobs; start it again afterwards."""
    paused = [w for w in _session_workers if w.proc is not None and w.proc.poll() is None]
    for worker in paused:
        worker.stop()
    yield
    for worker in paused:
        worker.start()


@pytest.fixture
def spawn_worker(worker_env, settings):
    """Start private workers: ``spawn_worker("name")`` returns a started WorkerProcess."""
    env, tmp = worker_env
    for _, setting, value in TIMING:
        setattr(settings, setting, value)
    started: list[WorkerProcess] = []

    def spawn(name: str, queues=ALL_QUEUES) -> WorkerProcess:
        worker = WorkerProcess(f"{name}-{os.getpid()}@localhost", env, tmp, queues)
        started.append(worker)
        return worker.start()

    yield spawn
    for worker in started:
        worker.stop()


def wait_until(predicate, timeout: float = 30, interval: float = 0.1,
               what: str = "condition not met", details=None):
    """Poll ``predicate`` until it returns something truthy; fail the test on timeout with
    ``what`` and, when given, the text ``details()`` returns (a log tail)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    pytest.fail(f"{what} within {timeout}s" + (f":\n{details()}" if details else ""))


def redis_answers(port: int) -> bool:
    """Whether a Redis server on 127.0.0.1:``port`` answers PING."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False
