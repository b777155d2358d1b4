"""Inference jobs. The application's tables are the truth about a job; Celery only carries
the message that asks a worker to run it, and may carry it more than once."""
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q


class JobStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


FINISHED = (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED)
LIVE = (JobStatus.QUEUED, JobStatus.RUNNING, JobStatus.SUCCEEDED)


class Job(models.Model):
    """One structure on one series, with one approved prompt version and the user's prompt.

    input_key: sha256 over series content, prompt version, engine and geometry; a second
        submission of the same inputs returns the live job with this key.
    geometry: the user's prompt, normalised: ``{"prompts": [{"slice": k, "box": [x0, y0,
        x1, y1]}]}`` in pixel coordinates (column, row) of the series' slices.
    queue: the Celery queue of the engine (``cpu`` or ``gpu``).
    attempt_token: set when a worker claims the job; only that attempt may finish it.
    progress_done / progress_total: slices segmented so far, for the progress bar.
    series_digest: the series' content (``annotations.series_shape.series_digest``) when the
        job was submitted: the content its prompt was placed on.
    corrects / base_version: a correction job (``annotations.corrections``) re-segments the
        affected run of slices of that result's mask version from one prompt (``geometry``:
        one box, with ``points`` [[x, y, 1 inside / 0 outside]] if any); it stores a new mask
        version of that result instead of a new result.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    series = models.ForeignKey("imaging.Series", on_delete=models.PROTECT, related_name="jobs")
    prompt_version = models.ForeignKey(
        "prompts.PromptVersion", on_delete=models.PROTECT, related_name="jobs"
    )
    structure_key = models.SlugField(max_length=64)
    engine = models.CharField(max_length=64)
    queue = models.CharField(max_length=16)
    geometry = models.JSONField()
    input_key = models.CharField(max_length=64, db_index=True)
    series_digest = models.CharField(max_length=64, blank=True)
    status = models.CharField(
        max_length=12, choices=JobStatus.choices, default=JobStatus.QUEUED, db_index=True
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="jobs"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    enqueued_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    worker = models.CharField(max_length=255, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    max_attempts = models.PositiveIntegerField(default=3)
    attempt_token = models.UUIDField(null=True, blank=True)
    cancel_requested = models.BooleanField(default=False)
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    corrects = models.ForeignKey(
        "annotations.Result", null=True, blank=True, on_delete=models.PROTECT,
        related_name="corrections",
    )
    base_version = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["input_key"],
                condition=Q(status__in=["queued", "running", "succeeded"]),
                name="annotations_one_live_job_per_input",
            )
        ]

    def __str__(self) -> str:
        return f"Job {self.public_id}"

    @property
    def finished(self) -> bool:
        return self.status in FINISHED


class JobTransition(models.Model):
    """Each change of a job's status, as data: who or which worker, when, from, to, why."""

    job = models.ForeignKey(Job, on_delete=models.PROTECT, related_name="transitions")
    from_status = models.CharField(max_length=12, blank=True)
    to_status = models.CharField(max_length=12)
    at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    worker = models.CharField(max_length=255, blank=True)
    reason = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "id"]
