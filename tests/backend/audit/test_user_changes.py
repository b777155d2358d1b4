"""Accounts created, changed or deleted anywhere are audited once, without password hashes;
sign-in bookkeeping is not a change."""
import pytest
from django.test import Client

from accounts.models import User
from audit.context import acting_from
from audit.models import AuditEntry
from tests.conftest import PASSWORD


def entries(action, user):
    return AuditEntry.objects.filter(action=action, object_id=str(user.pk))


@pytest.mark.django_db
def test_creating_a_user_writes_one_entry_without_the_password():
    user = User.objects.create_user("newdoc", password=PASSWORD, printed_name="Dr. New Doc")
    (entry,) = entries("user.create", user)
    assert entry.new_values["username"] == "newdoc"
    assert entry.new_values["printed_name"] == "Dr. New Doc"
    assert entry.new_values["password"] == "[hidden]"
    assert PASSWORD not in str(entry.new_values) and user.password not in str(entry.new_values)
    assert AuditEntry.objects.filter(object_id=str(user.pk)).count() == 1


def test_changing_a_user_records_old_and_new_values_and_who(users):
    admin, user = users["site_admin"], users["annotator"]
    with acting_from("198.51.100.4", "web", actor=admin):
        user.printed_name = "Dr. Ana Renamed"
        user.is_active = False
        user.save()
    (entry,) = entries("user.update", user)
    assert entry.old_values == {"printed_name": "Dr. Annotator Owner", "is_active": True}
    assert entry.new_values == {"printed_name": "Dr. Ana Renamed", "is_active": False}
    assert (entry.actor_id, entry.client_address) == (admin.pk, "198.51.100.4")


def test_saving_without_a_change_writes_nothing(users):
    users["annotator"].save()
    assert not entries("user.update", users["annotator"]).exists()


def test_a_password_change_is_recorded_but_not_the_hash(users):
    user = users["annotator"]
    user.set_password("a brand new passphrase 42")
    user.save()
    (entry,) = entries("user.update", user)
    assert entry.new_values == {"password": "[changed]"}
    assert entry.old_values == {"password": "[hidden]"}


@pytest.mark.django_db
def test_signing_in_records_the_login_but_no_account_change(users):
    Client().post("/accounts/login/", {"username": "reviewer_owner", "password": PASSWORD})
    user = User.objects.get(username="reviewer_owner")
    assert user.last_login is not None
    assert entries("session.login", user).count() == 1
    assert not entries("user.update", user).exists()


def test_deleting_a_user_is_recorded_with_the_last_values(users):
    user = users["norole"]
    pk = user.pk
    user.delete()
    entry = AuditEntry.objects.get(action="user.delete", object_id=str(pk))
    assert entry.old_values["username"] == "norole"


def test_a_role_change_through_the_action_is_recorded_once(api_as, users):
    target = users["norole"]
    before = AuditEntry.objects.filter(object_id=str(target.pk)).count()
    response = api_as("site_admin").put(
        f"/api/v1/accounts/users/{target.pk}/roles", {"roles": ["reviewer"]}, format="json"
    )
    assert response.status_code == 200
    assert AuditEntry.objects.filter(object_id=str(target.pk)).count() == before + 1
    assert entries("user.set_roles", target).get().new_values == {"roles": ["reviewer"]}
