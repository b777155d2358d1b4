"""Fixtures shared by the whole suite.

Users: for every role an owner, a member (both hold the role, at the demo site) and an
outsider (the role, at another site), plus a user with no role -- so a permission test is
one line: ``client = api_as("auditor")``.
"""
from contextlib import contextmanager

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from rest_framework.test import APIClient

from accounts.models import Site, User
from accounts.roles import Role
from audit import triggers

PASSWORD = "correct horse battery 9"

pytest_plugins = ["tests.worker"]


@pytest.fixture(autouse=True)
def audit_anchor_file(settings, tmp_path):
    """A fresh anchor file outside the database per test, as each test has a fresh trail."""
    settings.AUDIT_ANCHOR_PATH = tmp_path / "audit-anchors.log"
    return settings.AUDIT_ANCHOR_PATH


@pytest.fixture
def behind_the_triggers():
    """A context manager that drops the append-only triggers for its block, as someone with
    database-owner access could, and puts them back afterwards."""

    @contextmanager
    def dropped():
        triggers.remove(connection)
        try:
            yield connection
        finally:
            triggers.install(connection)

    return dropped


@pytest.fixture
def sites(db):
    home, _ = Site.objects.get_or_create(code="home", defaults={"name": "Home Hospital"})
    other, _ = Site.objects.get_or_create(code="other", defaults={"name": "Other Hospital"})
    return {"home": home, "other": other}


@pytest.fixture
def roles(db):
    from accounts.management.commands.seed_roles import seed_roles

    return {g.name: g for g in seed_roles()}


@pytest.fixture
def make_user(db, roles, sites):
    def make(username: str, *role_names: Role | str, site: str = "home", **fields) -> User:
        user = User.objects.create_user(
            username=username,
            password=PASSWORD,
            site=sites[site],
            printed_name=fields.pop("printed_name", f"Dr. {username.replace('_', ' ').title()}"),
            **fields,
        )
        user.groups.set(Group.objects.filter(name__in=[str(r) for r in role_names]))
        return user

    return make


@pytest.fixture
def users(make_user):
    """``users["annotator"]`` (owner), ``users["annotator_member"]``,
    ``users["annotator_outsider"]`` (other site) for every role, and ``users["norole"]``."""
    people = {"norole": make_user("norole")}
    for role in Role:
        people[role.value] = make_user(f"{role.value}_owner", role)
        people[f"{role.value}_member"] = make_user(f"{role.value}_member", role)
        people[f"{role.value}_outsider"] = make_user(f"{role.value}_outsider", role, site="other")
    return people


@pytest.fixture
def api_as(users):
    """An API client signed in as one of ``users`` (by key), or anonymous for None."""

    def client_for(key: str | None) -> APIClient:
        client = APIClient()
        if key is not None:
            client.force_authenticate(users[key])
        return client

    return client_for


@pytest.fixture
def browser_as(client, users):
    """Django's test client with a real session for one of ``users``."""

    def login(key: str):
        client.force_login(users[key])
        return client

    return login


@pytest.fixture(scope="session", autouse=True)
def remove_test_media():
    """The suite's media folder is private to this run; remove it afterwards."""
    import shutil

    from django.conf import settings

    yield
    shutil.rmtree(settings.MEDIA_ROOT, ignore_errors=True)


@pytest.fixture(autouse=True)
def fresh_cache():
    """Each test starts with an empty cache, so rate limits (sign-in throttling) counted by
    one test never spill into the next."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()
