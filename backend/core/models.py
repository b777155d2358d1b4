from django.db import models


class WorkerHeartbeat(models.Model):
    """A Celery worker's latest sign of life, written by the worker itself every few seconds.

    ``/healthz`` reads it: a worker is alive when ``last_seen`` is recent.
    """

    hostname = models.CharField(max_length=255, unique=True)
    queues = models.JSONField(default=list)
    engines = models.JSONField(default=list)
    pid = models.IntegerField()
    started_at = models.DateTimeField()
    last_seen = models.DateTimeField(db_index=True)
    stopped_at = models.DateTimeField(null=True, blank=True)
    # Where the web tier reaches this worker's HTTP endpoint (the live preview); empty when
    # the worker serves none.
    http_url = models.CharField(max_length=255, blank=True, default="")

    def __str__(self) -> str:
        return self.hostname


class WorkerProbe(models.Model):
    """A round trip through the broker: the web tier creates it, a worker answers it."""

    created_at = models.DateTimeField(auto_now_add=True)
    answered_by = models.CharField(max_length=255, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
