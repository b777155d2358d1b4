"""Web security over every route: CSRF on every state change (the routes come from the
authorization matrix, so a new state-changing route is covered as soon as it has its row),
security headers on pages, API and error answers, and error pages that carry no patient data.

Covered elsewhere and not repeated here: login throttling and lockout, automatic logoff
and session expiry (tests/backend/accounts/test_login.py), the password policy
(tests/backend/accounts/test_password_policy.py), upload size, zip-bomb and traversal limits
(tests/backend/imaging/test_upload_api.py), patient data kept out of logs
(tests/backend/ops/test_logs.py), ``check --deploy`` (tests/backend/config/test_settings.py).
"""
import pytest
from django.db import transaction
from rest_framework.test import APIClient

from tests.reliability.test_authorization_matrix import ROLES, ROWS, routes, url_for

STATE_CHANGES = sorted((route, method) for route, method in ROWS if method != "GET")
ANONYMOUS = {"accounts:login", "accounts:logout", "accounts-api:session-login"}


def csrf_refused(response) -> bool:
    body = response.content.decode(errors="replace")
    return response.status_code == 403 and "CSRF" in body


@pytest.mark.django_db
def test_every_state_change_is_refused_without_the_csrf_token(world, users):
    known = routes()
    unprotected = []
    for route, method in STATE_CHANGES:
        allowed = [r for r in ROLES if ROWS[(route, method)][r] == "+"]
        client = APIClient(enforce_csrf_checks=True)
        if route not in ANONYMOUS:
            client.force_login(users[allowed[0]])
        url = url_for(route, known[(route, method)], world, users)
        savepoint = transaction.savepoint()
        try:
            response = client.generic(method, url, data="{}", content_type="application/json")
        finally:
            transaction.savepoint_rollback(savepoint)
        if not csrf_refused(response):
            unprotected.append(f"{method} {url}: {response.status_code}")
    assert not unprotected, "state changes accepted without a CSRF token:\n" + "\n".join(
        unprotected)


@pytest.mark.django_db
def test_a_state_change_with_the_token_gets_past_the_csrf_check(users):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(users["site_admin"])
    page = client.get("/review/policy/")
    token = client.cookies["csrftoken"].value
    response = client.post("/api/v1/core/probes", {}, format="json", HTTP_X_CSRFTOKEN=token)
    assert page.status_code == 200 and response.status_code == 201, response.content


SECURITY_HEADERS = {"X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff",
                    "Referrer-Policy": "same-origin"}


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/accounts/login/", "/api/v1/accounts/me", "/no-such-page/",
                                  "/annotations/series/999999/"])
def test_pages_api_and_errors_carry_the_security_headers(settings, users, path):
    settings.X_FRAME_OPTIONS = "DENY"
    settings.SECURE_CONTENT_TYPE_NOSNIFF = True
    settings.SECURE_REFERRER_POLICY = "same-origin"
    client = APIClient()
    client.force_login(users["annotator"])
    response = client.get(path)
    assert {h: response.get(h) for h in SECURITY_HEADERS} == SECURITY_HEADERS


@pytest.mark.django_db
def test_error_answers_name_no_patient(world, users):
    """Refusals and not-found answers about a patient's images never echo who it is."""
    patient = world.series.study.patient
    secrets = [s for s in (patient.patient_id, getattr(patient, "name", "")) if s]
    outsider = APIClient()
    outsider.force_login(users["annotator_outsider"])
    answers = [
        outsider.get(f"/annotations/series/{world.series.pk}/"),
        outsider.get(f"/api/v1/annotations/results/{world.result.pk}"),
        outsider.get("/api/v1/imaging/dicom-web/studies"
                     f"/{world.series.study.study_instance_uid}/series"),
        APIClient().get(f"/api/v1/annotations/results/{world.result.pk}"),
    ]
    for response in answers:
        assert response.status_code in (403, 404)
        body = response.content.decode(errors="replace")
        assert not [s for s in secrets if s in body], body[:300]
