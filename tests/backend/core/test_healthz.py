import pytest

from tests.worker import wait_until


@pytest.mark.django_db
def test_it_reports_database_and_broker_without_a_worker(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["database"]["ok"] is True
    assert body["broker"]["ok"] is True
    assert body["workers"] == []
    assert body["status"] == "degraded"


@pytest.mark.django_db
def test_it_reports_a_stale_worker_as_gone(client, settings):
    from datetime import timedelta

    from django.utils import timezone

    from core.models import WorkerHeartbeat

    old = timezone.now() - timedelta(seconds=settings.CELERY_WORKER_STALE_SECONDS + 5)
    WorkerHeartbeat.objects.create(
        hostname="gone@x", queues=["cpu"], pid=1, started_at=old, last_seen=old
    )
    assert client.get("/healthz").json()["workers"] == []


@pytest.mark.django_db(transaction=True)
def test_it_lists_a_live_worker_with_its_queues(client, celery_worker):
    def worker_listed():
        workers = client.get("/healthz").json()["workers"]
        return [w for w in workers if w["hostname"] == celery_worker]

    (worker,) = wait_until(worker_listed)
    assert sorted(worker["queues"]) == ["cpu", "default", "gpu"]
    assert client.get("/healthz").json()["status"] == "ok"


@pytest.mark.django_db
def test_it_answers_503_when_the_broker_is_unreachable(client, settings):
    from config.celery import app

    keys = ("broker_url", "broker_write_url")
    original = {key: app.conf[key] for key in keys}
    app.conf.update({key: "redis://127.0.0.1:1/0" for key in keys})
    try:
        response = client.get("/healthz")
    finally:
        app.conf.update(original)
    assert response.status_code == 503
    assert response.json()["broker"]["ok"] is False
    assert response.json()["status"] == "down"
