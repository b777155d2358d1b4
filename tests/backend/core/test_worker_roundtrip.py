import pytest

from core.models import WorkerProbe
from tests.worker import wait_until


@pytest.mark.django_db(transaction=True)
def test_it_sends_a_task_through_the_broker_to_a_worker_process(api_as, celery_worker):
    response = api_as("site_admin").post("/api/v1/core/probes")
    assert response.status_code == 201
    probe_id = response.json()["id"]

    probe = wait_until(
        lambda: WorkerProbe.objects.filter(pk=probe_id, answered_at__isnull=False).first()
    )
    assert probe.answered_by == celery_worker
    assert api_as("site_admin").get(f"/api/v1/core/probes/{probe_id}").json()["answered_by"] == (
        celery_worker
    )


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["annotator", "reviewer", "prompt_admin", "auditor", "norole"])
def test_it_refuses_probes_and_worker_lists_to_other_roles(api_as, role):
    client = api_as(role)
    assert client.post("/api/v1/core/probes").status_code == 403
    assert client.get("/api/v1/core/workers").status_code == 403
    assert WorkerProbe.objects.count() == 0
