"""Audit reports: requested by an auditor, then claimed, advanced and finished by the
background task. The report's row is the truth about its state."""
import hashlib

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from accounts.roles import Role
from audit.trail import record_event

from ..models import AuditReport, ReportStatus

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


def claim(report_id: int) -> AuditReport | None:
    """Start (or, after a lost worker, restart) building; None when there is nothing to do."""
    with transaction.atomic():
        report = AuditReport.objects.select_for_update().filter(pk=report_id).first()
        if report is None or report.status not in (ReportStatus.QUEUED, ReportStatus.RUNNING):
            return None
        if report.attempts >= MAX_ATTEMPTS:
            _fail(report, f"gave up after {report.attempts} attempts")
            return None
        report.status, report.attempts = ReportStatus.RUNNING, report.attempts + 1
        report.started_at, report.stage = timezone.now(), "verifying the audit chain"
        report.progress_done = report.progress_total = 0
        report.save()
    return report


def note_progress(report: AuditReport, stage: str, done: int, total: int) -> None:
    AuditReport.objects.filter(pk=report.pk, status=ReportStatus.RUNNING).update(
        stage=stage, progress_done=done, progress_total=total)


def do_finish_report(report: AuditReport, content, csv_bytes: bytes, pdf_bytes: bytes) -> None:
    csv_sha, pdf_sha = (hashlib.sha256(csv_bytes).hexdigest(),
                        hashlib.sha256(pdf_bytes).hexdigest())
    name = f"audit-report-{report.period_start:%Y%m%d}-{report.period_end:%Y%m%d}"
    with transaction.atomic():
        report = AuditReport.objects.select_for_update().get(pk=report.pk)
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


def _fail(report: AuditReport, problem: str) -> None:
    report.status, report.error = ReportStatus.FAILED, problem
    report.finished_at = timezone.now()
    report.save()
    record_event(action="report.fail", target=report, new={"status": report.status},
                 reason=problem)


def do_fail_report(report: AuditReport, problem: str) -> None:
    with transaction.atomic():
        _fail(AuditReport.objects.select_for_update().get(pk=report.pk), problem)
