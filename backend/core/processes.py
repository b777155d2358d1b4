"""Start and stop the processes of the embedded default (web server and Celery worker)."""
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence

from django.conf import settings


def celery_worker_command(
    hostname: str, queues: Sequence[str], pool: str = "solo", concurrency: int = 1
) -> list:
    """A worker. Model queues use the solo pool: the engine stays loaded in the worker process
    itself, one job at a time (prefetch 1)."""
    return [
        sys.executable, "-m", "celery", "-A", "config", "worker",
        "--hostname", hostname,
        "--queues", ",".join(queues),
        "--pool", pool,
        "--concurrency", str(concurrency),
        "--loglevel", "INFO",
        "--without-gossip", "--without-mingle",
    ]


def web_command(host: str, port: int, workers: int = 2) -> list:
    """gunicorn with its own access log off: its request line carries the concrete path and
    query string (patient IDs in searches, UIDs in DICOMweb paths). Request lines come from
    the application instead (:data:`WEB_ENV`), naming the route pattern only."""
    return [
        sys.executable, "-m", "gunicorn", "config.wsgi:application",
        "--bind", f"{host}:{port}",
        "--workers", str(workers),
        "--threads", "4",
    ]


# The model worker's environment: its HTTP endpoint (probes, the live preview) on loopback.
MODEL_WORKER_ENV = {
    "MEDSAM_WORKER_HTTP_PORT": os.environ.get("MEDSAM_WORKER_HTTP_PORT", "auto"),
    "MEDSAM_WORKER_HTTP_HOST": os.environ.get("MEDSAM_WORKER_HTTP_HOST", "127.0.0.1"),
}

# The web child's environment: the application's access log (ops.middleware) on unless the
# operator turned it off.
WEB_ENV = {"MEDSAM_ACCESS_LOG": os.environ.get("MEDSAM_ACCESS_LOG", "1")}


def start(command: list, env: dict | None = None) -> subprocess.Popen:
    """Start a child in its own process group, with backend/ on its import path."""
    child_env = {**os.environ, **(env or {})}
    paths = [str(settings.BACKEND_DIR), str(settings.REPO_ROOT)]
    child_env["PYTHONPATH"] = os.pathsep.join(paths + [child_env.get("PYTHONPATH", "")])
    return subprocess.Popen(command, cwd=settings.REPO_ROOT, env=child_env, start_new_session=True)


def stop(processes: Sequence[subprocess.Popen], grace_seconds: float = 15) -> None:
    """SIGTERM every process group (warm shutdown), then SIGKILL what is left."""
    for proc in processes:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace_seconds
    for proc in processes:
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
