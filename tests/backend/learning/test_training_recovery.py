"""Issue 22: a fine-tune whose worker died is taken over (new attempt token; only the owning
attempt finishes it), the recovery sweep publishes it again, and a running fine-tune can be
cancelled (at once when its worker is dead; through the training loop's check otherwise).
Real database; the workers are heartbeat rows, as a real worker writes them."""
from datetime import timedelta

import pytest
from django.utils import timezone

from audit.models import AuditEntry
from core.models import WorkerHeartbeat
from learning import actions, tasks
from learning.models import TrainingJob, TrainingSet, TrainingStatus, TrainingTransition
from learning.progress import JobProgress

pytestmark = pytest.mark.django_db


def beat(hostname: str, *, alive: bool = True) -> None:
    now = timezone.now()
    WorkerHeartbeat.objects.update_or_create(hostname=hostname, defaults={
        "queues": ["cpu"], "engines": [], "pid": 1, "started_at": now - timedelta(minutes=5),
        "last_seen": now if alive else now - timedelta(hours=1), "stopped_at": None})


@pytest.fixture
def job(users, sites):
    admin = users["prompt_admin"]
    training_set = TrainingSet.objects.create(site=admin.site, structure_key="skull-ct",
                                              modality="CT", salt="test", created_by=admin)
    return actions.do_start_training(admin, training_set, config={"epochs": 1})


def events(job, action):
    return AuditEntry.objects.filter(action=action, object_id=str(job.pk)).count()


def test_a_running_job_of_a_live_worker_is_not_claimed_again(job):
    beat("a@host")
    first = actions.do_claim_training(job.pk, "a@host")
    assert first is not None
    assert actions.do_claim_training(job.pk, "b@host") is None
    current = TrainingJob.objects.get(pk=job.pk)
    assert (current.worker, current.attempts, current.attempt_token) == (
        "a@host", 1, first.attempt_token)


def test_a_running_job_of_a_dead_worker_is_taken_over_and_only_the_new_attempt_finishes(job):
    beat("a@host")
    first = actions.do_claim_training(job.pk, "a@host")
    beat("a@host", alive=False)
    beat("b@host")
    second = actions.do_claim_training(job.pk, "b@host")
    assert second is not None, "a job left running by a dead worker was never taken over"
    assert second.attempts == 2 and second.attempt_token != first.attempt_token
    takeover = TrainingTransition.objects.filter(job=job).last()
    assert (takeover.from_status, takeover.to_status, takeover.worker) == (
        "running", "running", "b@host")
    assert "a@host was lost" in takeover.reason
    assert events(job, "learning.train.start") == 2

    # The lost attempt can neither finish the job nor write its progress; it is told to stop.
    stale = JobProgress(first)
    stale.report(5, 10)
    assert stale.cancelled(force=True)
    actions.do_fail_training(first, "the old attempt")
    current = TrainingJob.objects.get(pk=job.pk)
    assert current.status == TrainingStatus.RUNNING and current.progress_done == 0
    assert not JobProgress(second).cancelled(force=True)
    actions.do_fail_training(second, "boom")
    current.refresh_from_db()
    assert current.status == TrainingStatus.FAILED and current.error == "boom"
    assert events(job, "learning.train.failed") == 1


def test_the_recovery_sweep_publishes_only_jobs_of_dead_workers(job, users, sites):
    other = actions.do_start_training(users["prompt_admin"], job.training_set,
                                      config={"epochs": 1})
    beat("a@host")
    beat("b@host")
    actions.do_claim_training(job.pk, "a@host")
    actions.do_claim_training(other.pk, "b@host")
    beat("a@host", alive=False)
    assert actions.requeue_orphans() == [job.pk]
    assert tasks.run_training.reject_on_worker_lost and tasks.run_training.acks_late


def test_a_job_taken_over_too_often_fails(job):
    for attempt in range(actions.MAX_ATTEMPTS):
        beat(f"w{attempt}@host")
        assert actions.do_claim_training(job.pk, f"w{attempt}@host") is not None
        beat(f"w{attempt}@host", alive=False)
    assert actions.do_claim_training(job.pk, "last@host") is None
    current = TrainingJob.objects.get(pk=job.pk)
    assert current.status == TrainingStatus.FAILED and "gave up after 3" in current.error
    assert events(job, "learning.train.failed") == 1


def test_cancelling_a_job_whose_worker_died_ends_it_cancelled_and_audited(job, users):
    beat("a@host")
    actions.do_claim_training(job.pk, "a@host")
    beat("a@host", alive=False)
    actions.do_cancel_training(users["prompt_admin"], job, "worker gone")
    current = TrainingJob.objects.get(pk=job.pk)
    assert current.status == TrainingStatus.CANCELLED, "a running job could not be cancelled"
    last = TrainingTransition.objects.filter(job=job).last()
    assert (last.from_status, last.to_status) == ("running", "cancelled")
    assert events(job, "learning.train.cancelled") == 1


def test_cancelling_a_job_of_a_live_worker_asks_its_training_loop_to_stop(job, users):
    beat("a@host")
    claimed = actions.do_claim_training(job.pk, "a@host")
    tracker = JobProgress(claimed)
    assert not tracker.cancelled(force=True)
    actions.do_cancel_training(users["prompt_admin"], job, "enough")
    assert TrainingJob.objects.get(pk=job.pk).status == TrainingStatus.RUNNING
    assert events(job, "learning.train.cancel") == 1
    assert tracker.cancelled(force=True)
    # What the task does when the loop stopped: the owning attempt ends it cancelled.
    actions.do_fail_training(claimed, "cancelled")
    current = TrainingJob.objects.get(pk=job.pk)
    assert current.status == TrainingStatus.CANCELLED
    assert events(job, "learning.train.cancelled") == 1
