"""Background work of QA, on the default queue. Messages only name a row; the row says what
is left to do, so a repeated or redelivered message is harmless."""
import logging
import socket

from celery import shared_task
from celery.signals import worker_ready

from audit.context import acting_from

logger = logging.getLogger(__name__)


@shared_task(bind=True, name="review.build_report", acks_late=True,
             reject_on_worker_lost=True)
def build_report(self, report_id: int) -> str:
    from .actions import reports
    from .reports.content import gather
    from .reports.csv_file import render_csv
    from .reports.pdf import render_pdf

    with acting_from(None, "worker"):
        report = reports.claim(report_id, self.request.hostname or socket.gethostname())
        if report is None:
            return "skipped"
        try:
            content = gather(report, lambda *step: reports.note_progress(report, *step))
            if not reports.do_finish_report(report, content, render_csv(content),
                                            render_pdf(content)):
                return "superseded"
        except Exception as problem:
            logger.exception("audit report %s failed", report_id)
            reports.do_fail_report(report, f"{type(problem).__name__}: {problem}")
            return "failed"
    return "succeeded"


def sweep() -> None:
    """Recovery: publish again reports left running by a dead worker."""
    from .actions import reports

    with acting_from(None, "worker"):
        requeued = reports.requeue_orphans()
    if requeued:
        logger.info("recovery sweep published %d report(s) again", len(requeued))


@worker_ready.connect
def sweep_on_start(sender, **kwargs):
    from .models import AuditReport, ReportStatus

    if AuditReport.objects.filter(status=ReportStatus.RUNNING).exists():
        sweep()


@shared_task(name="review.evaluate_prompt_version", acks_late=True)
def evaluate_prompt_version(version_id: int, result_id: int | None = None) -> str:
    """After a decision: compare the result's AI original with its confirmed mask and flag
    the prompt version to its administrators if its figures cross the site's limits."""
    from annotations.models import Result
    from prompts.models import PromptVersion

    from . import metrics
    from .actions import do_evaluate_prompt_version

    with acting_from(None, "worker"):
        result = Result.objects.filter(pk=result_id, state="confirmed").first()
        if result is not None:
            metrics.mask_change(result)
        version = PromptVersion.objects.select_related("entry__site").get(pk=version_id)
        alert = do_evaluate_prompt_version(version)
    return "alert" if alert else "ok"
