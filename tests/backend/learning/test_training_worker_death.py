"""Issue 22, on real workers: a worker killed with ``kill -9`` mid-fine-tune; its restart
takes the job over (the recovery sweep publishes it again), and cancelling the running job
ends it once, cancelled, audited, with no version stored."""
import pytest

from audit.models import AuditEntry
from learning.models import ModelVersion, TrainingJob, TrainingStatus
from tests.backend.learning.test_fine_tune_worker import SMALL, finished, start
from tests.worker import wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]


def test_a_fine_tune_whose_worker_is_killed_is_taken_over_and_cancelled_once(
        api_as, skull_results, without_session_worker, spawn_worker):
    worker = spawn_worker("trainer", queues=["cpu"])
    client = api_as("prompt_admin")
    public_id = start(client, {**SMALL, "epochs": 200})
    wait_until(lambda: TrainingJob.objects.filter(public_id=public_id, status="running",
                                                  stage="training").exists(),
               timeout=120, interval=0.3, details=lambda: worker.log()[-3000:])
    worker.kill9()
    assert TrainingJob.objects.get(public_id=public_id).status == TrainingStatus.RUNNING

    worker.start()
    job = wait_until(lambda: TrainingJob.objects.filter(
        public_id=public_id, attempts=2, stage="training").first(),
        timeout=120, interval=0.3, what="the job was not taken over",
        details=lambda: worker.log()[-3000:])
    assert any("was lost" in t.reason for t in job.transitions.all())

    response = client.post(f"/api/v1/learning/jobs/{public_id}/cancel", {"reason": "test"},
                           format="json")
    assert response.status_code == 200, response.json()
    job = wait_until(lambda: finished(public_id), timeout=60, interval=0.3)
    assert job.status == TrainingStatus.CANCELLED, job.error
    assert not ModelVersion.objects.exists()
    entries = AuditEntry.objects.filter(object_id=str(job.pk))
    assert entries.filter(action="learning.train.start").count() == 2
    assert entries.filter(action="learning.train.cancelled").count() == 1
    assert not entries.filter(action__in=["learning.train.failed",
                                          "learning.train.succeeded"]).exists()
