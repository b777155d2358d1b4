import pytest

from audit.models import AuditEntry
from tests.conftest import PASSWORD


@pytest.mark.django_db
def test_it_serves_the_login_page(client):
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    assert b"Sign in" in response.content
    assert b'name="password"' in response.content


@pytest.mark.django_db
def test_it_sends_anonymous_visitors_to_the_login_page(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.django_db
def test_it_signs_in_and_records_it(client, users):
    response = client.post(
        "/accounts/login/", {"username": "annotator_owner", "password": PASSWORD}
    )
    assert response.status_code == 302
    home = client.get("/")
    assert home.status_code == 200
    assert b"Dr. Annotator Owner" in home.content
    entry = AuditEntry.objects.get(action="session.login")
    assert entry.actor_username == "annotator_owner"
    assert entry.actor_printed_name == "Dr. Annotator Owner"
    assert entry.client_address == "127.0.0.1"


@pytest.mark.django_db
def test_it_refuses_a_wrong_password_without_saying_which_part_was_wrong(client, users):
    response = client.post("/accounts/login/", {"username": "annotator_owner", "password": "x"})
    assert response.status_code == 400
    assert b"The user name or password is not correct." in response.content
    assert AuditEntry.objects.filter(action="session.login_failed").count() == 1


@pytest.mark.django_db
def test_it_locks_an_account_after_repeated_failures(client, users, settings):
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        client.post("/accounts/login/", {"username": "reviewer_owner", "password": "wrong"})
    response = client.post(
        "/accounts/login/", {"username": "reviewer_owner", "password": PASSWORD}
    )
    assert response.status_code == 400
    assert b"Too many failed sign-in attempts" in response.content
    assert client.get("/").status_code == 302
    # Another account from elsewhere is not affected.
    other = client.post("/accounts/login/", {"username": "auditor_owner", "password": PASSWORD})
    assert other.status_code == 302


@pytest.mark.django_db
def test_it_signs_out_on_post_only(client, users):
    client.force_login(users["auditor"])
    assert client.get("/accounts/logout/").status_code == 405
    assert client.post("/accounts/logout/").status_code == 302
    assert client.get("/").status_code == 302
    assert AuditEntry.objects.filter(action="session.logout").count() == 1


@pytest.mark.django_db
def test_it_logs_off_automatically_after_inactivity(client, users, settings):
    import time

    client.force_login(users["annotator"])
    assert client.get("/").status_code == 200
    session = client.session
    session["last_activity"] = int(time.time()) - settings.SESSION_IDLE_TIMEOUT_SECONDS - 1
    session.save()
    response = client.get("/")
    assert response.status_code == 302
    assert "idle=1" in response["Location"]
    assert client.get("/").status_code == 302
    assert AuditEntry.objects.get(action="session.logout").reason == (
        "automatic logoff after inactivity"
    )


@pytest.mark.django_db
def test_the_api_answers_401_after_inactivity(client, users, settings):
    import time

    client.force_login(users["annotator"])
    session = client.session
    session["last_activity"] = int(time.time()) - settings.SESSION_IDLE_TIMEOUT_SECONDS - 1
    session.save()
    response = client.get("/api/v1/accounts/me")
    assert response.status_code == 401
    assert "inactivity" in response.json()["detail"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "role, shown, hidden",
    [
        ("annotator", ["Worklist", "Prompt library"], ["QA queue", "Audit trail", "Reports"]),
        ("reviewer", ["QA queue", "Metrics"], ["Audit trail"]),
        ("auditor", ["Audit trail", "Reports", "Metrics"], ["QA queue"]),
        ("prompt_admin", ["Prompt library", "Metrics"], ["QA queue", "Audit trail"]),
    ],
)
def test_the_home_page_offers_each_role_its_work(browser_as, role, shown, hidden):
    import re

    page = browser_as(role).get("/").content.decode()
    links = re.findall(r">([^<>]+)</a>", page)
    for name in shown:
        assert name in links, (name, links)
    for name in hidden:
        assert name not in links, (name, links)


@pytest.mark.django_db
@pytest.mark.parametrize("role, path", [
    ("reviewer", "/review/"), ("reviewer", "/review/metrics/"),
    ("prompt_admin", "/prompts/"), ("prompt_admin", "/review/alerts/"),
    ("auditor", "/review/metrics/"), ("site_admin", "/review/metrics/"),
])
def test_no_page_offers_the_same_link_twice(browser_as, role, path):
    import re

    response = browser_as(role).get(path)
    assert response.status_code == 200
    labels = re.findall(r"<a href=\"[^\"]+\"[^>]*>([^<>]+)</a>", response.content.decode())
    assert len(labels) == len(set(labels)), labels
