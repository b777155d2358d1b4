"""The web tier's /livez, /readyz and /metrics."""
from datetime import timedelta

import pytest
from django.utils import timezone

from annotations.models import Job
from ops import readiness
from tests.prometheus import metric

pytestmark = pytest.mark.django_db


def test_it_is_alive_without_asking_anything_else(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/livez")
    assert response.status_code == 200
    assert response.json() == {"status": "alive"}


def test_it_is_ready_when_database_migrations_and_broker_are(client):
    body = client.get("/readyz").json()
    assert body["status"] == "ready"
    assert body["database"]["ok"] and body["migrations"]["ok"] and body["broker"]["ok"]


def test_it_is_not_ready_while_migrations_are_pending(client, monkeypatch):
    monkeypatch.setattr(readiness, "_migrated", False)
    monkeypatch.setattr(
        readiness.MigrationExecutor, "migration_plan", lambda self, targets: [("app", False)]
    )
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["migrations"] == {"ok": False, "pending": 1}


def test_it_is_not_ready_when_the_broker_is_down(client, monkeypatch):
    from config.celery import app

    # Nothing listens on the discard port.
    monkeypatch.setitem(app.conf, "broker_url", "redis://127.0.0.1:9/0")
    # Set from CELERY_BROKER_URL too when that names a server (CI's Redis).
    monkeypatch.setitem(app.conf, "broker_write_url", "redis://127.0.0.1:9/0")
    monkeypatch.setitem(app.conf, "broker_transport_options", {})
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["broker"]["ok"] is False


def test_it_counts_requests_by_route_pattern(api_as):
    client = api_as("annotator")
    before = metric(client.get("/metrics").content.decode(), "medsam_http_requests_total",
                    method="GET", route="/api/v1/annotations/jobs", status="200") or 0
    client.get("/api/v1/annotations/jobs?limit=5&tag=1.2.840.99999.1.2.3")
    text = client.get("/metrics").content.decode()
    assert metric(text, "medsam_http_requests_total", method="GET",
                  route="/api/v1/annotations/jobs", status="200") == before + 1
    assert "1.2.840.99999" not in text


def test_it_reports_queue_depth_and_job_durations(client, library, make_head_series, users):
    series, box, key = make_head_series(2)
    version = library["liver-ct"]
    now = timezone.now()
    common = {"series": series, "prompt_version": version, "structure_key": "liver-ct",
              "engine": "litemedsam", "created_by": users["annotator"], "geometry": {}}
    Job.objects.create(queue="cpu", status="queued", input_key="a", **common)
    Job.objects.create(queue="gpu", status="running", input_key="b", started_at=now, **common)
    Job.objects.create(queue="cpu", status="succeeded", input_key="c", **common,
                       started_at=now - timedelta(seconds=15), finished_at=now)
    text = client.get("/metrics").content.decode()
    assert metric(text, "medsam_jobs", queue="cpu", status="queued") == 1
    assert metric(text, "medsam_jobs", queue="gpu", status="running") == 1
    assert metric(text, "medsam_jobs", queue="gpu", status="queued") == 0
    labels = {"queue": "cpu", "engine": "litemedsam", "status": "succeeded"}
    assert metric(text, "medsam_job_duration_seconds_bucket", **labels, le="10.0") == 0
    assert metric(text, "medsam_job_duration_seconds_bucket", **labels, le="20.0") == 1
    assert metric(text, "medsam_job_duration_seconds_count", **labels) == 1
    assert metric(text, "medsam_job_duration_seconds_sum", **labels) == pytest.approx(15)
    assert metric(text, "medsam_broker_messages", queue="cpu") is not None


def test_a_metrics_token_keeps_other_scrapers_out(client, settings):
    settings.METRICS_TOKEN = "s3cret-scrape-token"
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    response = client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-scrape-token")
    assert response.status_code == 200
    assert b"medsam_jobs" in response.content
