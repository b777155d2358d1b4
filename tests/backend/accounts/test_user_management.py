"""A site administrator manages the site's users: create with a temporary password, set roles
under separation of duties, disable, reset a password with a forced change. All audited."""
import pytest
from rest_framework.test import APIClient

from accounts.models import User
from audit.models import AuditEntry
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a new passphrase 42"


def session_client(username: str, password: str = PASSWORD) -> APIClient:
    """A client signed in through the real sign-in, so every middleware applies."""
    client = APIClient(enforce_csrf_checks=False)
    assert client.login(username=username, password=password)
    return client


def entries(action: str, user: User):
    return AuditEntry.objects.filter(action=action, object_type="accounts.user",
                                     object_id=str(user.pk))


def test_an_administrator_creates_a_user_who_must_choose_a_password(api_as, users):
    answer = api_as("site_admin").post("/api/v1/accounts/users", {
        "username": "new_nurse", "printed_name": "Dr. New Nurse", "roles": ["annotator"],
        "reason": "joined radiology",
    }, format="json")
    assert answer.status_code == 201, answer.content
    body = answer.json()
    assert body["site"] == "home" and body["roles"] == ["annotator"]
    assert body["must_change_password"] is True
    temporary = body["temporary_password"]
    created = User.objects.get(username="new_nurse")
    assert created.check_password(temporary) and created.site == users["site_admin"].site
    entry = entries("user.create", created).get()
    assert entry.actor_id == users["site_admin"].pk and entry.reason == "joined radiology"
    assert temporary not in str(entry.new_values) and "pbkdf2" not in str(entry.new_values)
    assert entries("user.set_roles", created).get().new_values == {"roles": ["annotator"]}

    # The temporary password opens only the password page.
    client = session_client("new_nurse", temporary)
    refused = client.get("/api/v1/annotations/worklist")
    assert refused.status_code == 403 and "password" in refused.json()["detail"]
    page = client.get("/annotations/")
    assert page.status_code == 302 and page.url.startswith("/accounts/password/")
    assert not User.objects.get(pk=created.pk).has_role("annotator")
    weak = client.post("/api/v1/accounts/me/password",
                       {"current_password": temporary, "new_password": "short"}, format="json")
    assert weak.status_code == 400 and "new_password" in weak.json()
    done = client.post("/api/v1/accounts/me/password",
                       {"current_password": temporary, "new_password": NEW_PASSWORD},
                       format="json")
    assert done.status_code == 204
    assert client.get("/api/v1/annotations/worklist").status_code == 200  # same session
    assert entries("user.password_change", created).exists()


@pytest.mark.parametrize("body, field", [
    ({"username": "", "printed_name": "X"}, "username"),
    ({"username": "bad name!", "printed_name": "X"}, "username"),
    ({"username": "ANNOTATOR_OWNER", "printed_name": "X"}, "username"),
    ({"username": "ok_name", "printed_name": "  "}, "printed_name"),
    ({"username": "ok_name", "printed_name": "X", "roles": ["site_admin", "auditor"]}, "roles"),
    ({"username": "ok_name", "printed_name": "X", "roles": ["emperor"]}, "roles"),
])
def test_a_bad_new_user_is_refused_with_the_field_and_nothing_is_written(api_as, users, body,
                                                                          field):
    before = (User.objects.count(), AuditEntry.objects.count())
    answer = api_as("site_admin").post("/api/v1/accounts/users", body, format="json")
    assert answer.status_code == 400, answer.content
    assert field in answer.json(), answer.json()
    assert (User.objects.count(), AuditEntry.objects.count()) == before


def test_only_a_site_administrator_of_the_users_site_manages_them(api_as, users):
    target = users["annotator"]
    for key in ("annotator", "auditor", "prompt_admin", "reviewer"):
        client = api_as(key)
        assert client.post("/api/v1/accounts/users", {"username": "x", "printed_name": "X"},
                           format="json").status_code == 403
        assert client.post(f"/api/v1/accounts/users/{target.pk}/disable",
                           {"reason": "x"}).status_code == 403
    outsider = api_as("site_admin_outsider")
    assert outsider.post(f"/api/v1/accounts/users/{target.pk}/disable",
                         {"reason": "x"}).status_code == 404
    assert outsider.post(f"/api/v1/accounts/users/{target.pk}/reset-password",
                         {"reason": "x"}).status_code == 404
    target.refresh_from_db()
    assert target.is_active and not target.must_change_password


def test_a_disabled_user_cannot_sign_in_and_loses_the_open_session(api_as, users):
    target = users["annotator"]
    open_session = session_client(target.username)
    assert open_session.get("/api/v1/annotations/worklist").status_code == 200
    admin = api_as("site_admin")
    assert admin.post(f"/api/v1/accounts/users/{target.pk}/disable", {}).status_code == 400
    answer = admin.post(f"/api/v1/accounts/users/{target.pk}/disable", {"reason": "left"})
    assert answer.status_code == 200 and answer.json()["is_active"] is False
    assert open_session.get("/api/v1/annotations/worklist").status_code in (401, 403)
    assert not APIClient().login(username=target.username, password=PASSWORD)
    assert entries("user.disable", target).get().reason == "left"
    again = admin.post(f"/api/v1/accounts/users/{target.pk}/disable", {"reason": "left"})
    assert again.status_code == 400 and "already disabled" in str(again.json())
    assert admin.post(f"/api/v1/accounts/users/{target.pk}/enable",
                      {"reason": "back"}).status_code == 200
    assert APIClient().login(username=target.username, password=PASSWORD)


def test_nobody_disables_or_resets_their_own_account(api_as, users):
    me = users["site_admin"]
    client = api_as("site_admin")
    for step in ("disable", "reset-password"):
        answer = client.post(f"/api/v1/accounts/users/{me.pk}/{step}", {"reason": "x"})
        assert answer.status_code == 403, step
    me.refresh_from_db()
    assert me.is_active and me.check_password(PASSWORD)


def test_a_password_reset_ends_sessions_and_forces_a_new_password(api_as, users):
    target = users["reviewer"]
    open_session = session_client(target.username)
    answer = api_as("site_admin").post(f"/api/v1/accounts/users/{target.pk}/reset-password",
                                       {"reason": "forgot it"})
    assert answer.status_code == 200
    temporary = answer.json()["temporary_password"]
    assert open_session.get("/api/v1/review/items").status_code in (401, 403)
    assert not APIClient().login(username=target.username, password=PASSWORD)
    client = session_client(target.username, temporary)
    assert client.get("/api/v1/review/items").status_code == 403
    assert client.post("/api/v1/accounts/me/password",
                       {"current_password": temporary, "new_password": NEW_PASSWORD},
                       format="json").status_code == 204
    assert client.get("/api/v1/review/items").status_code == 200
    assert entries("user.password_reset", target).get().reason == "forgot it"


def test_the_user_pages_manage_an_account(browser_as, users):
    admin = browser_as("site_admin")
    assert "Users" in admin.get("/").content.decode()
    listing = admin.get("/accounts/users/").content.decode()
    assert users["annotator"].username in listing
    assert users["annotator_outsider"].username not in listing
    refused = admin.post("/accounts/users/new/", {"username": "two_hats", "printed_name": "X",
                                                  "roles": ["site_admin", "auditor"]})
    assert refused.status_code == 400
    assert "separation of duties" in refused.content.decode()
    made = admin.post("/accounts/users/new/", {"username": "two_hats", "printed_name": "Dr X",
                                               "roles": ["auditor"]})
    assert made.status_code == 200 and 'id="temporary-password"' in made.content.decode()
    person = User.objects.get(username="two_hats")
    page = admin.post(f"/accounts/users/{person.pk}/roles/",
                      {"roles": ["auditor", "site_admin"]}, follow=True).content.decode()
    assert "separation of duties" in page
    assert sorted(User.objects.get(pk=person.pk).role_names()) == ["auditor"]
    own = admin.get(f"/accounts/users/{users['site_admin'].pk}/").content.decode()
    assert "Save roles" not in own and "separation of duties" in own
    assert browser_as("annotator").get("/accounts/users/").status_code == 403
