import pytest
from rest_framework.test import APIClient

from tests.conftest import PASSWORD


def csrf_client() -> APIClient:
    """A client that enforces CSRF like a browser, holding the cookie from GET session."""
    client = APIClient(enforce_csrf_checks=True)
    state = client.get("/api/v1/accounts/session")
    assert state.json() == {"authenticated": False, "user": None}
    client.credentials(HTTP_X_CSRFTOKEN=client.cookies["csrftoken"].value)
    return client


@pytest.mark.django_db
def test_it_starts_a_session_through_the_api(users):
    client = csrf_client()
    response = client.post(
        "/api/v1/accounts/session",
        {"username": "prompt_admin_owner", "password": PASSWORD},
        format="json",
    )
    assert response.status_code == 200
    assert client.get("/api/v1/accounts/session").json()["authenticated"] is True
    assert response.json()["roles"] == ["prompt_admin"]
    me = client.get("/api/v1/accounts/me")
    assert me.json()["username"] == "prompt_admin_owner"
    assert me.json()["site"] == "home"


@pytest.mark.django_db
def test_a_sign_in_without_the_csrf_token_is_refused(users):
    """No other page can sign this browser into an account of its choosing."""
    response = APIClient(enforce_csrf_checks=True).post(
        "/api/v1/accounts/session",
        {"username": "prompt_admin_owner", "password": PASSWORD},
        format="json",
    )
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]


@pytest.mark.django_db
def test_it_refuses_a_bad_api_login_with_a_reason(users):
    response = APIClient().post(
        "/api/v1/accounts/session", {"username": "auditor_owner", "password": "no"}, format="json"
    )
    assert response.status_code == 403
    assert response.json()["detail"] == "The user name or password is not correct."


@pytest.mark.django_db
def test_it_says_what_is_missing_from_a_login(users):
    response = APIClient().post("/api/v1/accounts/session", {}, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"username", "password"}


@pytest.mark.django_db
@pytest.mark.parametrize(
    "role, status",
    [
        ("site_admin", 200),
        ("annotator", 403),
        ("reviewer", 403),
        ("prompt_admin", 403),
        ("auditor", 403),
        ("norole", 403),
        (None, 403),
    ],
)
def test_only_site_admins_list_users(api_as, role, status):
    assert api_as(role).get("/api/v1/accounts/users").status_code == status


@pytest.mark.django_db
def test_a_site_admin_changes_roles_and_it_is_audited(api_as, users):
    from audit.models import AuditEntry

    target = users["norole"]
    response = api_as("site_admin").put(
        f"/api/v1/accounts/users/{target.pk}/roles", {"roles": ["reviewer"]}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["roles"] == ["reviewer"]
    entry = AuditEntry.objects.get(action="user.set_roles")
    assert entry.old_values == {"roles": []}
    assert entry.new_values == {"roles": ["reviewer"]}
    assert entry.object_id == str(target.pk)


@pytest.mark.django_db
def test_it_refuses_an_unknown_role(api_as, users):
    response = api_as("site_admin").put(
        f"/api/v1/accounts/users/{users['norole'].pk}/roles", {"roles": ["wizard"]}, format="json"
    )
    assert response.status_code == 400
    assert "roles" in response.json()
    assert list(users["norole"].groups.all()) == []
