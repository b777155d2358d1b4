"""Worker heartbeats: each worker process writes its own row every few seconds."""
import logging
import os
import threading
import time

from celery.signals import worker_ready, worker_shutdown
from django.conf import settings
from django.db import close_old_connections
from django.utils import timezone

logger = logging.getLogger(__name__)
_stop = threading.Event()
_beaten = threading.Event()
_maintenance: list = []
_http = {"url": ""}


def advertise_http(url: str) -> None:
    """The URL of this worker's HTTP endpoint, written with every beat from now on."""
    _http["url"] = url


def register_maintenance(task) -> None:
    """Run ``task()`` on every worker every ``JOB_SWEEP_SECONDS`` (recovery sweeps)."""
    if task not in _maintenance:
        _maintenance.append(task)


def engines_for(queues: list[str]) -> list[str]:
    """Engines this worker can run: available here and served by one of its queues."""
    try:
        from model.engines.registry import list_engines

        return sorted(e.name for e in list_engines() if e.available and e.queue in queues)
    except Exception:
        logger.exception("could not list engines")
        return []


def _queues(consumer) -> list[str]:
    return sorted(q.name for q in consumer.task_consumer.queues)


def beat_once(hostname: str, queues: list[str], started_at, engines: list[str]) -> None:
    from .models import WorkerHeartbeat

    now = timezone.now()
    WorkerHeartbeat.objects.update_or_create(
        hostname=hostname,
        defaults={
            "queues": queues,
            "engines": engines,
            "pid": os.getpid(),
            "started_at": started_at,
            "last_seen": now,
            "stopped_at": None,
            "http_url": _http["url"],
        },
    )


def has_beaten() -> bool:
    """Whether this worker's heartbeat row has been written since it became ready: until
    then the rest of the system (health, metrics, recovery) cannot see it."""
    return _beaten.is_set()


def _loop(hostname: str, queues: list[str]) -> None:
    started_at = timezone.now()
    engines = engines_for(queues)
    last_maintenance = 0.0
    while True:
        try:
            beat_once(hostname, queues, started_at, engines)
            _beaten.set()
        except Exception:  # a missed beat must never kill the worker; /healthz shows it
            logger.exception("worker heartbeat failed")
        now = time.monotonic()
        if now - last_maintenance >= settings.JOB_SWEEP_SECONDS:
            last_maintenance = now
            for task in _maintenance:
                try:
                    task()
                except Exception:
                    logger.exception("maintenance task %s failed", task.__name__)
        close_old_connections()
        if _stop.wait(settings.CELERY_WORKER_HEARTBEAT_SECONDS):
            return


@worker_ready.connect
def start_heartbeat(sender, **kwargs):
    _stop.clear()
    _beaten.clear()
    thread = threading.Thread(
        target=_loop, args=(sender.hostname, _queues(sender)), name="heartbeat", daemon=True
    )
    thread.start()


@worker_shutdown.connect
def stop_heartbeat(sender, **kwargs):
    from .models import WorkerHeartbeat

    _stop.set()
    WorkerHeartbeat.objects.filter(hostname=sender.hostname).update(stopped_at=timezone.now())
