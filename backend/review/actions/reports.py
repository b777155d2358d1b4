"""Audit reports: requested by an auditor, then claimed, advanced and finished by the
background task. The report's row is the truth about its state."""
import hashlib
import uuid
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from accounts.roles import Role
from audit.trail import record_event

from ..models import AuditReport, ReportStatus, ReportTransition

MAX_ATTEMPTS = 3


def require_auditor(actor) -> None:
    if not (actor is not None and actor.has_role(Role.AUDITOR)):
        raise PermissionDenied("Audit reports are open to auditors only.")


def do_request_report(actor, period_start, period_end, structure_key: str = "",
                      annotator=None, prompt_version=None) -> AuditReport:
    require_auditor(actor)
    if period_end < period_start:
        raise ValidationError({"period_end": "The period ends before it starts."})
    site = actor.site
    if site is None:
        raise PermissionDenied("Your account belongs to no site.")
    if annotator is not None and annotator.site_id != site.pk:
        raise ValidationError({"annotator": "Choose a user of your own site."})
    if prompt_version is not None and prompt_version.entry.site_id != site.pk:
        raise ValidationError({"prompt_version": "Choose a prompt version of your own site."})
    with transaction.atomic():
        report = AuditReport.objects.create(
            site=site, requested_by=actor, requested_at=timezone.now(),
            period_start=period_start, period_end=period_end, structure_key=structure_key or "",
            annotator=annotator, prompt_version=prompt_version,
        )
        record_event(action="report.request", actor=actor, target=report,
                     new={"scope": report.scope, "status": report.status})
        transaction.on_commit(lambda: publish(report.pk))
    return report


def publish(report_id: int) -> None:
    from ..tasks import build_report

    build_report.apply_async((report_id,), queue="default")


def _transition(report: AuditReport, to: str, *, worker: str = "", reason: str = "") -> None:
    ReportTransition.objects.create(report=report, from_status=report.status, to_status=to,
                                    at=timezone.now(), worker=worker, reason=reason)


def _owner_alive(report: AuditReport) -> bool:
    """Whether the worker building this report still beats (the same process, not a
    restart under the same name)."""
    from core.models import WorkerHeartbeat

    if not report.worker or report.started_at is None:
        return False
    fresh_after = timezone.now() - timedelta(seconds=settings.CELERY_WORKER_STALE_SECONDS)
    return WorkerHeartbeat.objects.filter(
        hostname=report.worker, last_seen__gte=fresh_after, stopped_at__isnull=True,
        started_at__lte=report.started_at).exists()


def claim(report_id: int, worker: str = "") -> AuditReport | None:
    """Start building with a new attempt token, or take over after a lost worker; None when
    there is nothing to do or a live worker is building it."""
    with transaction.atomic():
        report = AuditReport.objects.select_for_update().filter(pk=report_id).first()
        if report is None or report.status not in (ReportStatus.QUEUED, ReportStatus.RUNNING):
            return None
        if report.status == ReportStatus.RUNNING and _owner_alive(report):
            return None
        if report.attempts >= MAX_ATTEMPTS:
            _fail(report, f"gave up after {report.attempts} attempts", worker=worker)
            return None
        lost = report.status == ReportStatus.RUNNING
        reason = f"worker {report.worker} was lost" if lost else "started"
        _transition(report, ReportStatus.RUNNING, worker=worker, reason=reason)
        report.status, report.attempts = ReportStatus.RUNNING, report.attempts + 1
        report.worker, report.attempt_token = worker, uuid.uuid4()
        report.started_at, report.stage = timezone.now(), "verifying the audit chain"
        report.progress_done = report.progress_total = 0
        report.save()
        record_event(action="report.start", target=report, reason=reason,
                     new={"status": report.status, "worker": worker,
                          "attempt": report.attempts})
    return report


def _owned(report: AuditReport) -> AuditReport | None:
    current = AuditReport.objects.select_for_update().get(pk=report.pk)
    if (current.status != ReportStatus.RUNNING
            or current.attempt_token != report.attempt_token):
        return None
    return current


def note_progress(report: AuditReport, stage: str, done: int, total: int) -> None:
    AuditReport.objects.filter(pk=report.pk, status=ReportStatus.RUNNING,
                               attempt_token=report.attempt_token).update(
        stage=stage, progress_done=done, progress_total=total)


def requeue_orphans() -> list[int]:
    """Publish again the reports left running by a dead worker (``claim`` lets one attempt
    build; a duplicate message is harmless)."""
    ids = [r.pk for r in AuditReport.objects.filter(status=ReportStatus.RUNNING)
           if not _owner_alive(r)]
    for report_id in ids:
        publish(report_id)
    return ids


def do_finish_report(report: AuditReport, content, csv_bytes: bytes, pdf_bytes: bytes) -> bool:
    """Store the files and finish, only by the attempt that owns the report; False (nothing
    written) for an attempt that was taken over or a report already finished."""
    csv_sha, pdf_sha = (hashlib.sha256(csv_bytes).hexdigest(),
                        hashlib.sha256(pdf_bytes).hexdigest())
    name = f"audit-report-{report.period_start:%Y%m%d}-{report.period_end:%Y%m%d}"
    with transaction.atomic():
        owner = report
        report = _owned(report)
        if report is None:
            return False
        _transition(report, ReportStatus.SUCCEEDED, worker=owner.worker, reason="built")
        report.csv_file.save(f"{name}.csv", ContentFile(csv_bytes), save=False)
        report.pdf_file.save(f"{name}.pdf", ContentFile(pdf_bytes), save=False)
        report.csv_sha256, report.pdf_sha256 = csv_sha, pdf_sha
        report.chain_intact = content.chain.intact
        report.chain_count, report.chain_head_hash = content.chain.count, content.chain.head_hash
        report.status, report.stage = ReportStatus.SUCCEEDED, "done"
        report.progress_done = report.progress_total = max(report.progress_total, 1)
        report.finished_at = timezone.now()
        report.save()
        record_event(action="report.generate", target=report,
                     new={"status": report.status, "pdf_sha256": pdf_sha, "csv_sha256": csv_sha,
                          "results": len(content.results), "chain_intact": content.chain.intact,
                          "chain_entries": content.chain.count,
                          "chain_head_hash": content.chain.head_hash})
    return True


def _fail(report: AuditReport, problem: str, *, worker: str = "") -> None:
    _transition(report, ReportStatus.FAILED, worker=worker, reason=problem)
    report.status, report.error = ReportStatus.FAILED, problem
    report.finished_at = timezone.now()
    report.save()
    record_event(action="report.fail", target=report, new={"status": report.status},
                 reason=problem)


def do_fail_report(report: AuditReport, problem: str) -> None:
    """Fail the report, only by the attempt that owns it."""
    with transaction.atomic():
        current = _owned(report)
        if current is not None:
            _fail(current, problem, worker=report.worker)
