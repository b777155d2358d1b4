"""Prometheus metrics of the web tier.

Request counts and latencies are counted in each web process (with gunicorn's several
processes, ``PROMETHEUS_MULTIPROC_DIR`` makes every scrape see all of them). Queue depth, job
durations and live workers are read at scrape time from the application's own tables and the
broker, so every web replica reports the same figures: aggregate them with ``max``, not
``sum``. Workers expose their own metrics (GPU memory among them): ``ops.worker_http``.
"""
import os
from datetime import timedelta

from django.conf import settings
from django.db.models import Count, DurationField, ExpressionWrapper, F, Q, Sum
from django.utils import timezone
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily

from config.celery import ALL_QUEUES, app

REQUESTS = Counter(
    "medsam_http_requests", "HTTP requests answered, by route pattern (never the concrete path)",
    ["method", "route", "status"],
)
REQUEST_SECONDS = Histogram(
    "medsam_http_request_duration_seconds", "Time to answer an HTTP request",
    ["method", "route"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
JOB_SECONDS_BUCKETS = (1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1800, 3600)
LIVE_STATUSES = ("queued", "running")
FINISHED_STATUSES = ("succeeded", "failed")


class JobCollector:
    """Jobs waiting and running per queue, and durations of finished jobs (last attempt,
    start to finish), from the jobs table."""

    def collect(self):
        from annotations.models import Job

        depth = GaugeMetricFamily(
            "medsam_jobs", "Jobs queued or running, by queue", labels=["queue", "status"]
        )
        counts = {(q, s): 0 for q in ALL_QUEUES for s in LIVE_STATUSES}
        rows = Job.objects.filter(status__in=LIVE_STATUSES).values("queue", "status")
        for row in rows.annotate(n=Count("pk")):
            counts[(row["queue"], row["status"])] = row["n"]
        for (queue, status), n in sorted(counts.items()):
            depth.add_metric([queue, status], n)
        yield depth
        yield self._durations(Job)

    @staticmethod
    def _durations(job_model):
        family = HistogramMetricFamily(
            "medsam_job_duration_seconds",
            "Duration of finished jobs' last attempt, by queue, engine and outcome",
            labels=["queue", "engine", "status"],
        )
        duration = ExpressionWrapper(F("finished_at") - F("started_at"),
                                     output_field=DurationField())
        finished = job_model.objects.filter(
            status__in=FINISHED_STATUSES, started_at__isnull=False, finished_at__isnull=False
        ).annotate(took=duration)
        buckets = {
            f"le_{i}": Count("pk", filter=Q(took__lte=timedelta(seconds=bound)))
            for i, bound in enumerate(JOB_SECONDS_BUCKETS)
        }
        rows = finished.values("queue", "engine", "status").annotate(
            n=Count("pk"), total=Sum("took"), **buckets
        )
        for row in rows.order_by("queue", "engine", "status"):
            cumulative = [(str(float(b)), row[f"le_{i}"])
                          for i, b in enumerate(JOB_SECONDS_BUCKETS)]
            cumulative.append(("+Inf", row["n"]))
            total = row["total"] or timedelta(0)
            family.add_metric([row["queue"], row["engine"], row["status"]], cumulative,
                              total.total_seconds())
        return family


class WorkerCollector:
    """Workers whose heartbeat is fresh, per queue they consume."""

    def collect(self):
        from core.models import WorkerHeartbeat

        fresh_after = timezone.now() - timedelta(seconds=settings.CELERY_WORKER_STALE_SECONDS)
        alive = {queue: 0 for queue in ALL_QUEUES}
        rows = WorkerHeartbeat.objects.filter(last_seen__gte=fresh_after, stopped_at__isnull=True)
        for queues in rows.values_list("queues", flat=True):
            for queue in queues:
                alive[queue] = alive.get(queue, 0) + 1
        family = GaugeMetricFamily("medsam_workers_alive", "Workers with a fresh heartbeat",
                                   labels=["queue"])
        for queue, n in sorted(alive.items()):
            family.add_metric([queue], n)
        yield family


class BrokerCollector:
    """Messages waiting in each broker queue (absent when the broker does not answer)."""

    def collect(self):
        family = GaugeMetricFamily("medsam_broker_messages", "Messages waiting in the broker",
                                   labels=["queue"])
        try:
            with app.connection_for_read() as conn:
                conn.ensure_connection(max_retries=1, timeout=2)
                for queue in ALL_QUEUES:
                    channel = conn.channel()
                    try:
                        _, count, _ = channel.queue_declare(queue=queue, passive=True)
                        family.add_metric([queue], count)
                    except Exception:  # not declared yet: nothing has been sent to it
                        family.add_metric([queue], 0)
                    finally:
                        channel.close()
        except Exception:
            pass
        yield family


def application_registry() -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    for collector in (JobCollector(), WorkerCollector(), BrokerCollector()):
        registry.register(collector)
    return registry


def exposition() -> tuple[bytes, str]:
    """This web process's (or, in multiprocess mode, all of them) request metrics, then the
    application-wide figures."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        processes = CollectorRegistry()
        multiprocess.MultiProcessCollector(processes)
    else:
        processes = REGISTRY
    return generate_latest(processes) + generate_latest(application_registry()), (
        CONTENT_TYPE_LATEST
    )
