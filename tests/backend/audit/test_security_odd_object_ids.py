"""Issue 20 item 6: a failed sign-in's audit entry names the user name typed, any string. The
auditor's pages linked to its object history with ``{% url %}``, which raised NoReverseMatch on
``x/y`` (a 500 on /audit/ and /audit/entries/<seq>/ for every auditor from then on)."""
import re
from html import unescape

import pytest
from django.contrib.auth.models import Group

from accounts.models import User
from audit.models import AuditEntry
from tests.conftest import PASSWORD

ODD_NAMES = ["x/y", "a?b", "c#d", "e f", "ünï/cödé ✓", "../..", "x/./y", "%2F", "/lead", "tail/"]


@pytest.fixture
def platform_auditor(roles):
    """The platform operator's auditor: no site, so the system's own entries (failed sign-ins
    with unknown user names belong to no site) are visible to it."""
    user = User.objects.create_user("platform_auditor", password=PASSWORD, site=None,
                                    printed_name="Platform Auditor")
    user.groups.set(Group.objects.filter(name="auditor"))
    return user


def failed_sign_in(client, username: str) -> AuditEntry:
    client.post("/accounts/login/", {"username": username, "password": "wrong password 1"})
    return AuditEntry.objects.filter(object_type="accounts.user", object_id=username).latest("seq")


@pytest.mark.django_db
@pytest.mark.parametrize("username", ODD_NAMES)
def test_the_auditor_pages_survive_any_user_name(client, platform_auditor, username):
    entry = failed_sign_in(client, username)
    assert entry.action.startswith("session.login")
    client.force_login(platform_auditor)

    trail = client.get("/audit/")
    assert trail.status_code == 200
    page = client.get(f"/audit/entries/{entry.seq}/")
    assert page.status_code == 200
    assert username in unescape(page.content.decode())

    # The link on the entry page leads to that object's entries, whatever the name holds.
    hrefs = re.findall(r'href="([^"]*)"', page.content.decode())
    links = [unescape(h) for h in hrefs if "objects/" in h or "object_id=" in h]
    assert len(links) == 1, hrefs
    history = client.get(links[0])
    assert history.status_code == 200
    assert f"/audit/entries/{entry.seq}/" in history.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("username", ["x/y", "a?b", "e f", "ünï/cödé ✓"])
def test_the_api_reaches_the_history_of_any_object_id(client, api_as, platform_auditor,
                                                       username):
    from urllib.parse import quote

    from rest_framework.test import APIClient

    entry = failed_sign_in(client, username)
    api = APIClient()
    api.force_authenticate(platform_auditor)
    answer = api.get(f"/api/v1/audit/objects/accounts.user/{quote(username, safe='')}")
    assert answer.status_code == 200
    assert entry.seq in [e["seq"] for e in answer.json()["entries"]]
