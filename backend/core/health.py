"""What /healthz reports: the database, the broker and the workers' heartbeats."""
from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.utils import timezone

from config.celery import ALL_QUEUES, app

from .models import WorkerHeartbeat


def check_database() -> dict:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return {"ok": True, "vendor": connection.vendor}
    except Exception as exc:
        return {"ok": False, "error": type(exc).__name__}


def check_broker() -> dict:
    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
            return {"ok": True, "transport": conn.transport_cls}
    except Exception as exc:
        return {"ok": False, "error": type(exc).__name__}


def live_workers() -> list[dict]:
    fresh_after = timezone.now() - timedelta(seconds=settings.CELERY_WORKER_STALE_SECONDS)
    rows = WorkerHeartbeat.objects.filter(last_seen__gte=fresh_after, stopped_at__isnull=True)
    return [
        {
            "hostname": w.hostname,
            "queues": w.queues,
            "engines": w.engines,
            "last_seen": w.last_seen.isoformat(),
        }
        for w in rows.order_by("hostname")
    ]


def report() -> tuple[dict, bool]:
    """The health report and whether the service can take work (database and broker up)."""
    database = check_database()
    broker = check_broker()
    workers = live_workers() if database["ok"] else []
    healthy = database["ok"] and broker["ok"]
    served = {queue for worker in workers for queue in worker["queues"] or []}
    unserved = [queue for queue in ALL_QUEUES if queue not in served]
    status = "ok" if healthy and workers else ("degraded" if healthy else "down")
    return {
        "status": status,
        "database": database,
        "broker": broker,
        "workers": workers,
        "unserved_queues": unserved,
    }, healthy
