"""Issue 22: a report being built by a live worker is not built again by a redelivered
message; only the attempt that owns the report finishes it; one ``report.generate``."""
from datetime import date, timedelta

import pytest
from django.utils import timezone

from audit.models import AuditEntry
from core.models import WorkerHeartbeat
from review.actions import do_request_report, reports
from review.models import AuditReport, ReportStatus, ReportTransition
from review.reports.content import gather
from review.tasks import build_report

pytestmark = pytest.mark.django_db


def beat(hostname: str, *, alive: bool = True) -> None:
    now = timezone.now()
    WorkerHeartbeat.objects.update_or_create(hostname=hostname, defaults={
        "queues": ["default"], "engines": [], "pid": 1,
        "started_at": now - timedelta(minutes=5),
        "last_seen": now if alive else now - timedelta(hours=1), "stopped_at": None})


@pytest.fixture
def report(users):
    return do_request_report(users["auditor"], date.today(), date.today())


def finish(attempt) -> bool:
    content = gather(attempt, lambda *step: None)
    return reports.do_finish_report(attempt, content, b"csv", b"%PDF-1.4 test")


def generated(report) -> int:
    return AuditEntry.objects.filter(action="report.generate",
                                     object_id=str(report.pk)).count()


def test_a_redelivered_message_does_not_build_a_report_a_live_worker_builds(report):
    beat("a@host")
    first = reports.claim(report.pk, "a@host")
    assert first is not None
    assert build_report.run(report.pk) == "skipped"  # the redelivered message
    assert generated(report) == 0
    assert finish(first)
    assert generated(report) == 1
    assert AuditReport.objects.get(pk=report.pk).status == ReportStatus.SUCCEEDED


def test_only_the_owning_attempt_finishes_after_a_take_over(report):
    beat("a@host")
    first = reports.claim(report.pk, "a@host")
    beat("a@host", alive=False)
    second = reports.claim(report.pk, "b@host")
    assert second is not None and second.attempt_token != first.attempt_token
    assert not finish(first)
    reports.do_fail_report(first, "the old attempt")
    assert AuditReport.objects.get(pk=report.pk).status == ReportStatus.RUNNING
    assert finish(second)
    assert not finish(second)
    assert generated(report) == 1
    steps = list(ReportTransition.objects.filter(report=report)
                 .values_list("from_status", "to_status"))
    assert steps == [("queued", "running"), ("running", "running"), ("running", "succeeded")]
    assert AuditEntry.objects.filter(action="report.start",
                                     object_id=str(report.pk)).count() == 2
    assert reports.requeue_orphans() == []
