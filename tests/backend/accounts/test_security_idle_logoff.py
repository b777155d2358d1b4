"""Idle logoff after a sign-in (issue 20): a session that makes no request after signing in
is logged off on its first request after the idle timeout, for the form and the API alike."""
import time

import pytest
from rest_framework.test import APIClient

from audit.models import AuditEntry
from tests.conftest import PASSWORD


@pytest.fixture
def short_idle(settings):
    settings.SESSION_IDLE_TIMEOUT_SECONDS = 1
    return settings


@pytest.mark.django_db
def test_an_api_sign_in_then_silence_is_logged_off(users, short_idle):
    client = APIClient()
    signed_in = client.post("/api/v1/accounts/session",
                            {"username": "annotator_owner", "password": PASSWORD}, format="json")
    assert signed_in.status_code == 200
    assert abs(client.session["last_activity"] - time.time()) < 5
    time.sleep(2.2)
    response = client.get("/api/v1/accounts/me")
    assert response.status_code == 401
    assert "inactivity" in response.json()["detail"]
    assert AuditEntry.objects.get(action="session.logout").reason == (
        "automatic logoff after inactivity"
    )


@pytest.mark.django_db
def test_a_form_sign_in_then_silence_is_logged_off(client, users, short_idle):
    signed_in = client.post("/accounts/login/",
                            {"username": "reviewer_owner", "password": PASSWORD})
    assert signed_in.status_code == 302
    time.sleep(2.2)
    response = client.get("/")
    assert response.status_code == 302
    assert "idle=1" in response["Location"]


@pytest.mark.django_db
def test_a_session_in_use_stays_signed_in(client, users, settings):
    assert client.post("/accounts/login/",
                       {"username": "reviewer_owner", "password": PASSWORD}).status_code == 302
    assert client.get("/").status_code == 200
    assert client.get("/").status_code == 200
