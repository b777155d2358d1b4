"""Audit reports: requested by an auditor, built by a background task whose progress and
outcome live in this table; Celery only carries the request."""
import uuid

from django.conf import settings
from django.db import models


class ReportStatus(models.TextChoices):
    QUEUED = "queued", "queued"
    RUNNING = "running", "running"
    SUCCEEDED = "succeeded", "succeeded"
    FAILED = "failed", "failed"


def report_path(report: "AuditReport", filename: str) -> str:
    return f"reports/{report.public_id}/{filename}"


class AuditReport(models.Model):
    """One report for a period (dates inclusive) of one site, optionally narrowed to a
    structure, an annotator or a prompt version.

    progress_done / progress_total / stage: for the progress bar.
    chain_*: the audit chain verification made while building (intact, entries, head hash).
    worker / attempt_token: the worker building it and its attempt; only that attempt
        may finish it, and a running report is taken over only when that worker is dead.
    csv_file / pdf_file and their sha256: what was delivered; the ``report.generate`` audit
        entry records the same hashes.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    site = models.ForeignKey("accounts.Site", on_delete=models.PROTECT, related_name="+")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField()
    period_start = models.DateField()
    period_end = models.DateField()
    structure_key = models.SlugField(max_length=64, blank=True)
    annotator = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    prompt_version = models.ForeignKey(
        "prompts.PromptVersion", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(
        max_length=12, choices=ReportStatus.choices, default=ReportStatus.QUEUED, db_index=True
    )
    attempts = models.PositiveIntegerField(default=0)
    worker = models.CharField(max_length=255, blank=True)
    attempt_token = models.UUIDField(null=True, blank=True)
    stage = models.CharField(max_length=100, blank=True)
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    chain_intact = models.BooleanField(null=True)
    chain_count = models.PositiveBigIntegerField(null=True)
    chain_head_hash = models.CharField(max_length=64, blank=True)
    csv_file = models.FileField(upload_to=report_path, blank=True, max_length=200)
    csv_sha256 = models.CharField(max_length=64, blank=True)
    pdf_file = models.FileField(upload_to=report_path, blank=True, max_length=200)
    pdf_sha256 = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]

    def __str__(self) -> str:
        return f"Audit report {self.period_start}..{self.period_end}"

    @property
    def scope(self) -> str:
        """The filters in words, as the report's title shows them."""
        parts = [f"{self.period_start:%Y-%m-%d} to {self.period_end:%Y-%m-%d}"]
        if self.structure_key:
            parts.append(f"structure {self.structure_key}")
        if self.annotator_id:
            parts.append(f"annotator {self.annotator.get_printed_name()}")
        if self.prompt_version_id:
            parts.append(f"prompt version {self.prompt_version.label}")
        return ", ".join(parts)


class ReportTransition(models.Model):
    """Each change of a report's status: which worker, when, from, to, why."""

    report = models.ForeignKey(AuditReport, on_delete=models.PROTECT, related_name="transitions")
    from_status = models.CharField(max_length=12, blank=True)
    to_status = models.CharField(max_length=12)
    at = models.DateTimeField()
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.PROTECT, related_name="+")
    worker = models.CharField(max_length=255, blank=True)
    reason = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "id"]
