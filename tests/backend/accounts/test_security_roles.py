"""Separation of duties (issue 20 item 2): nobody changes their own roles, incompatible roles
are refused on every path, and the trail holds the role sets before and after."""
import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import transaction

from audit.models import AuditEntry


def put_roles(client, user, roles):
    return client.put(f"/api/v1/accounts/users/{user.pk}/roles", {"roles": roles}, format="json")


@pytest.mark.django_db
def test_a_site_admin_cannot_grant_themselves_every_role(api_as, users):
    me = users["site_admin"]
    every = ["annotator", "reviewer", "prompt_admin", "auditor", "site_admin"]
    response = put_roles(api_as("site_admin"), me, every)
    assert response.status_code == 403
    assert "own roles" in response.json()["detail"]
    assert sorted(me.groups.values_list("name", flat=True)) == ["site_admin"]
    assert not AuditEntry.objects.filter(action="user.set_roles").exists()


@pytest.mark.django_db
def test_a_site_admin_cannot_even_drop_their_own_roles(api_as, users):
    response = put_roles(api_as("site_admin"), users["site_admin"], [])
    assert response.status_code == 403
    assert users["site_admin"].groups.filter(name="site_admin").exists()


@pytest.mark.django_db
def test_site_admin_with_auditor_is_refused_naming_the_pair(api_as, users):
    target = users["norole"]
    response = put_roles(api_as("site_admin"), target, ["site_admin", "auditor"])
    assert response.status_code == 400
    message = str(response.json()["roles"])
    assert "site_admin and auditor" in message
    assert list(target.groups.all()) == []
    assert not AuditEntry.objects.filter(action="user.set_roles").exists()


@pytest.mark.django_db
def test_the_conflicts_come_from_the_setting(api_as, users, settings):
    settings.ROLE_CONFLICTS = [("reviewer", "annotator")]
    client = api_as("site_admin")
    refused = put_roles(client, users["norole"], ["annotator", "reviewer"])
    assert refused.status_code == 400
    assert "reviewer and annotator" in str(refused.json()["roles"])
    # Without the default pair configured, site_admin + auditor is allowed.
    assert put_roles(client, users["norole"], ["site_admin", "auditor"]).status_code == 200


@pytest.mark.django_db
def test_another_admin_changes_roles_with_before_and_after_in_the_trail(api_as, users):
    target = users["annotator_member"]
    response = put_roles(api_as("site_admin_member"), target, ["annotator", "reviewer"])
    assert response.status_code == 200
    entry = AuditEntry.objects.get(action="user.set_roles")
    assert entry.old_values == {"roles": ["annotator"]}
    assert entry.new_values == {"roles": ["annotator", "reviewer"]}
    assert entry.actor_id == users["site_admin_member"].pk
    assert entry.object_id == str(target.pk)


@pytest.mark.django_db
def test_other_paths_meet_the_same_conflict_rule(users, roles):
    """A command or a shell adding groups directly is refused too (m2m guard)."""
    admin = users["site_admin_member"]
    attempts = [
        lambda: admin.groups.add(roles["auditor"]),
        lambda: admin.groups.set([roles["site_admin"], roles["auditor"]]),
        lambda: Group.objects.get(name="auditor").user_set.add(admin),
    ]
    for attempt in attempts:
        with pytest.raises(ValidationError, match="site_admin and auditor"):
            with transaction.atomic():
                attempt()
    assert sorted(admin.groups.values_list("name", flat=True)) == ["site_admin"]
    # A compatible addition still goes through.
    admin.groups.add(roles["reviewer"])
    assert sorted(admin.groups.values_list("name", flat=True)) == ["reviewer", "site_admin"]
