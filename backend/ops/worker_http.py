"""A worker's own small HTTP endpoint for the orchestrator and Prometheus.

Started in the worker process when ``MEDSAM_WORKER_HTTP_PORT`` is set (the container images
set it; the embedded default does not):

- ``/livez``: 200 while the worker's heartbeat thread runs (it stops only with the worker).
- ``/readyz``: 200 once the worker consumes its queues, has recorded its heartbeat and
  reaches the database and broker.
- ``/metrics``: tasks run by this worker, their durations, and GPU memory.
- ``POST /preview``: the viewer's live preview, signed by the web tier
  (``annotations.preview_worker``). The worker advertises this endpoint's URL in its
  heartbeat row, which is how the web tier finds it.
"""
import logging
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from celery.signals import task_postrun, task_prerun, worker_ready, worker_shutdown
from django.conf import settings
from django.db import close_old_connections
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

from core.heartbeat import advertise_http

from .gpu import GpuMemoryCollector

logger = logging.getLogger(__name__)

TASKS = Counter("medsam_worker_tasks", "Tasks this worker ran, by outcome", ["task", "outcome"])
TASK_SECONDS = Histogram(
    "medsam_worker_task_duration_seconds", "Time this worker spent on a task", ["task"],
    buckets=(0.1, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1800, 3600),
)
BUSY = Gauge("medsam_worker_busy_tasks", "Tasks running on this worker now")

_state = {"ready": False, "server": None, "hostname": ""}
_started: dict[str, float] = {}
_gpu = {"collector": None}


def heartbeat_running() -> bool:
    return any(t.name == "heartbeat" and t.is_alive() for t in threading.enumerate())


def readiness() -> tuple[dict, bool]:
    from core.health import check_broker, check_database
    from core.heartbeat import has_beaten

    close_old_connections()
    try:
        checks = {
            "consuming": {"ok": _state["ready"]},
            "heartbeat": {"ok": has_beaten()},
            "database": check_database(),
            "broker": check_broker(),
        }
    finally:
        close_old_connections()
    ready = all(check["ok"] for check in checks.values())
    return {"worker": _state["hostname"], **checks}, ready


class ProbeHandler(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802  (the name http.server calls)
        import json

        path = self.path.split("?", 1)[0]
        if path == "/livez":
            alive = heartbeat_running()
            self._send(200 if alive else 503, json.dumps({"alive": alive}), "application/json")
        elif path == "/readyz":
            body, ready = readiness()
            self._send(200 if ready else 503, json.dumps(body), "application/json")
        elif path == "/metrics":
            self._send(200, generate_latest(REGISTRY), CONTENT_TYPE_LATEST)
        else:
            self._send(404, "not found\n", "text/plain")

    def do_POST(self):  # noqa: N802
        import json

        from annotations import preview, preview_worker

        if self.path.split("?", 1)[0] != "/preview":
            self._send(404, "not found\n", "text/plain")
            return
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if not 0 < length <= 64 * 1024:
            self._send(400, json.dumps({"detail": "A JSON body of at most 64 KiB is needed."}),
                       "application/json")
            return
        status, answer = preview_worker.handle(
            self.rfile.read(length), self.headers.get(preview.TIMESTAMP_HEADER, ""),
            self.headers.get(preview.SIGNATURE_HEADER, ""))
        self._send(status, json.dumps(answer), "application/json")

    def _send(self, status: int, body, content_type: str) -> None:
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format, *args):  # probes every few seconds would flood the log
        pass


@worker_ready.connect
def start_probe_server(sender, **kwargs):
    _state["ready"] = True
    _state["hostname"] = sender.hostname
    port = settings.WORKER_HTTP_PORT
    if port is None:
        return
    if _gpu["collector"] is None:
        _gpu["collector"] = GpuMemoryCollector()
        REGISTRY.register(_gpu["collector"])
    server = ThreadingHTTPServer((settings.WORKER_HTTP_HOST, port), ProbeHandler)
    server.daemon_threads = True
    _state["server"] = server
    threading.Thread(target=server.serve_forever, name="probe-http", daemon=True).start()
    port = server.server_address[1]  # the one taken, when any free port was asked for
    advertise_http(f"http://{advertised_host()}:{port}")
    logger.info("worker probes, metrics and previews on %s:%s", settings.WORKER_HTTP_HOST, port)


def advertised_host() -> str:
    host = settings.WORKER_HTTP_ADVERTISE or settings.WORKER_HTTP_HOST
    if host in ("", "0.0.0.0", "::"):
        host = socket.gethostname()
    return f"[{host}]" if ":" in host else host


@worker_shutdown.connect
def stop_probe_server(sender, **kwargs):
    _state["ready"] = False
    server = _state.pop("server", None)
    if server is not None:
        server.shutdown()


@task_prerun.connect
def task_started(task_id=None, **kwargs):
    _started[task_id] = time.monotonic()
    BUSY.inc()


@task_postrun.connect
def task_finished(task_id=None, task=None, retval=None, state=None, **kwargs):
    started = _started.pop(task_id, None)
    BUSY.dec()
    name = getattr(task, "name", "unknown")
    if started is not None:
        TASK_SECONDS.labels(name).observe(time.monotonic() - started)
    outcome = retval if isinstance(retval, str) and len(retval) <= 20 else (state or "done")
    TASKS.labels(name, str(outcome).lower()).inc()
