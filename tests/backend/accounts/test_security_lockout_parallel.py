"""Parallel guesses at one account (issue 20 item 3, found again by attacking it): requests in
flight together each passed the lock check before any failure was counted, so an attacker with
enough connections got far more than LOGIN_FAILURE_LIMIT password checks per lock. Now the
check, the password and the count are one transaction holding the account's row: at most the
limit are checked, the rest are refused as locked, whichever entry point they use."""
import pytest
from django.test import Client
from rest_framework.test import APIClient

from audit.models import AuditEntry
from tests.backend.audit.test_parallel_writers import run_in_parallel
from tests.conftest import PASSWORD

GUESSES = 12


def addresses(index: int) -> dict:
    # Every guess from its own address, so the per-address throttle never steps in: only the
    # per-account limit can stop them.
    return {"REMOTE_ADDR": f"198.51.100.{100 + index}"}


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("entry_point", ["form", "api"])
def test_parallel_guesses_get_no_more_than_the_limit(users, settings, entry_point):
    statuses = []

    def guess(index: int):
        if entry_point == "form":
            response = Client().post("/accounts/login/",
                                     {"username": "annotator_owner", "password": f"guess-{index}"},
                                     **addresses(index))
        else:
            response = APIClient().post("/api/v1/accounts/session",
                                        {"username": "annotator_owner",
                                         "password": f"guess-{index}"},
                                        format="json", **addresses(index))
        statuses.append(response.status_code)

    assert run_in_parallel(guess, GUESSES) == []
    assert len(statuses) == GUESSES and 200 not in statuses and 302 not in statuses
    checked = AuditEntry.objects.filter(action="session.login_failed",
                                        object_id="annotator_owner").count()
    refused = AuditEntry.objects.filter(action="session.login_locked",
                                        object_id="annotator_owner").count()
    assert checked == settings.LOGIN_FAILURE_LIMIT, (checked, refused)
    assert refused == GUESSES - settings.LOGIN_FAILURE_LIMIT
    # The right password is refused too now: the account is locked.
    locked = Client().post("/accounts/login/",
                           {"username": "annotator_owner", "password": PASSWORD},
                           REMOTE_ADDR="198.51.100.250")
    assert b"locked for this account" in locked.content
