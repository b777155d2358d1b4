"""Worker heartbeats: each worker process writes its own row every few seconds."""
import logging
import os
import threading

from celery.signals import worker_ready, worker_shutdown
from django.conf import settings
from django.db import close_old_connections
from django.utils import timezone

logger = logging.getLogger(__name__)
_stop = threading.Event()


def _queues(consumer) -> list[str]:
    return sorted(q.name for q in consumer.task_consumer.queues)


def beat_once(hostname: str, queues: list[str], started_at) -> None:
    from .models import WorkerHeartbeat

    now = timezone.now()
    WorkerHeartbeat.objects.update_or_create(
        hostname=hostname,
        defaults={
            "queues": queues,
            "pid": os.getpid(),
            "started_at": started_at,
            "last_seen": now,
            "stopped_at": None,
        },
    )


def _loop(hostname: str, queues: list[str]) -> None:
    started_at = timezone.now()
    while True:
        try:
            beat_once(hostname, queues, started_at)
        except Exception:  # a missed beat must never kill the worker; /healthz shows it
            logger.exception("worker heartbeat failed")
        finally:
            close_old_connections()
        if _stop.wait(settings.CELERY_WORKER_HEARTBEAT_SECONDS):
            return


@worker_ready.connect
def start_heartbeat(sender, **kwargs):
    _stop.clear()
    thread = threading.Thread(
        target=_loop, args=(sender.hostname, _queues(sender)), name="heartbeat", daemon=True
    )
    thread.start()


@worker_shutdown.connect
def stop_heartbeat(sender, **kwargs):
    from .models import WorkerHeartbeat

    _stop.set()
    WorkerHeartbeat.objects.filter(hostname=sender.hostname).update(stopped_at=timezone.now())
