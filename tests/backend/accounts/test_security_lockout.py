"""A lockout that cannot be weaponised (issue 20 item 3).

Before: twenty failed sign-ins with made-up names from one address locked every account from
that address, e-signatures included, and behind nginx every user shares one address. Now:
per-account lockout with doubling backoff, an address throttle that refuses only unknown or
already failing names, and the client address from X-Forwarded-For only behind a trusted
proxy. The same limits hold for the form, the API and the e-signature's password.
"""
from datetime import timedelta

import pytest
from django.test import RequestFactory
from django.utils import timezone
from rest_framework.test import APIClient

from accounts import throttle
from accounts.addresses import client_address
from accounts.models import AccountLockout, LoginFailure
from audit.context import acting_from
from audit.models import AuditEntry, Meaning, Signature
from audit.signatures import SignatureRefused, content_sha256, do_sign
from tests.conftest import PASSWORD

LOGIN = "/accounts/login/"
API_LOGIN = "/api/v1/accounts/session"


def form_login(client, username, password, **extra):
    return client.post(LOGIN, {"username": username, "password": password}, **extra)


def api_login(username, password, **extra):
    return APIClient().post(API_LOGIN, {"username": username, "password": password},
                            format="json", **extra)


def flood(client, settings, **extra):
    for n in range(settings.LOGIN_ADDRESS_FAILURE_LIMIT):
        response = form_login(client, f"made-up-{n}", "guess", **extra)
        assert response.status_code == 400


@pytest.mark.django_db
def test_a_flood_of_made_up_names_does_not_lock_out_real_users(client, users, settings):
    flood(client, settings)
    # The reproduction of the issue: every account from this address used to be locked.
    assert form_login(client, "reviewer_owner", PASSWORD).status_code == 302
    assert api_login("auditor_owner", PASSWORD).status_code == 200
    entry = AuditEntry.objects.filter(action="session.login").latest("seq")
    assert entry.actor_username == "auditor_owner"


@pytest.mark.django_db
def test_a_flooding_address_is_refused_for_unknown_and_already_failing_names(
    client, users, settings,
):
    flood(client, settings)
    failures = LoginFailure.objects.count()
    unknown = form_login(client, "made-up-new", "guess")
    assert unknown.status_code == 400
    assert b"from this address" in unknown.content
    # A real account gets its password checked once; after that failure it is refused here.
    assert b"not correct" in form_login(client, "annotator_owner", "wrong").content
    retry = form_login(client, "annotator_owner", PASSWORD)
    assert retry.status_code == 400 and b"from this address" in retry.content
    # Refused attempts were never password checks: only the one real check was counted.
    assert LoginFailure.objects.count() == failures + 1
    # The same account from another address is not locked.
    assert form_login(client, "annotator_owner", PASSWORD,
                      REMOTE_ADDR="198.51.100.20").status_code == 302
    assert AuditEntry.objects.filter(action="session.login_locked").count() == 2


@pytest.mark.django_db
def test_failures_on_one_account_lock_only_that_account(client, users, settings):
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        form_login(client, "reviewer_owner", "wrong")
    locked = form_login(client, "reviewer_owner", PASSWORD, REMOTE_ADDR="198.51.100.30")
    assert locked.status_code == 400
    assert b"locked for this account" in locked.content
    # The API is held to the same lock.
    refused = api_login("reviewer_owner", PASSWORD)
    assert refused.status_code == 403
    assert "locked for this account" in refused.json()["detail"]
    # Another account from the very same address signs in.
    assert form_login(client, "reviewer_member", PASSWORD).status_code == 302


@pytest.mark.django_db
def test_each_further_lock_doubles_up_to_the_maximum(users, settings):
    settings.LOGIN_LOCKOUT_BASE_SECONDS = 60
    settings.LOGIN_LOCKOUT_MAX_SECONDS = 200
    lengths = []
    for _ in range(4):
        for _ in range(settings.LOGIN_FAILURE_LIMIT):
            assert api_login("annotator_owner", "wrong").status_code == 403
        row = AccountLockout.objects.get(username="annotator_owner")
        lengths.append(round((row.locked_until - row.last_failure_at).total_seconds()))
        assert throttle.locked_out("annotator_owner", None)
        # The lock runs out (set its end in the past, as time passing would).
        row.locked_until = timezone.now() - timedelta(seconds=1)
        row.save()
    assert lengths == [60, 120, 200, 200]
    # A correct password forgets the backoff (from another address: 127.0.0.1 has failed 20
    # times now, so it may not retry this name for a while).
    assert api_login("annotator_owner", PASSWORD, REMOTE_ADDR="198.51.100.60").status_code == 200
    row = AccountLockout.objects.get(username="annotator_owner")
    assert (row.failures, row.level, row.locked_until) == (0, 0, None)


@pytest.mark.django_db
def test_names_that_differ_only_in_case_share_one_lock(client, users, settings):
    for n in range(settings.LOGIN_FAILURE_LIMIT):
        form_login(client, "Auditor_Owner" if n % 2 else "AUDITOR_OWNER", "wrong")
    assert b"locked for this account" in form_login(client, "auditor_owner", PASSWORD).content


@pytest.mark.django_db
def test_a_made_up_name_locks_like_a_real_one(client, users, settings):
    """A lock says nothing about which names exist."""
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        form_login(client, "nobody-here", "wrong", REMOTE_ADDR="198.51.100.40")
    assert b"locked for this account" in form_login(
        client, "nobody-here", "wrong", REMOTE_ADDR="198.51.100.41").content


# --- Client address -------------------------------------------------------------------------

def address_of(remote, forwarded=None):
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return client_address(RequestFactory().get("/", **extra))


def test_x_forwarded_for_is_ignored_without_trusted_proxies(settings):
    settings.TRUSTED_PROXIES = []
    assert address_of("203.0.113.5", "10.9.9.9") == "203.0.113.5"


def test_x_forwarded_for_is_ignored_from_an_untrusted_peer(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.1"]
    assert address_of("203.0.113.5", "198.51.100.1") == "203.0.113.5"


def test_behind_a_trusted_proxy_the_right_most_untrusted_hop_is_the_client(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/24", "::1"]
    assert address_of("10.0.0.1", "203.0.113.7") == "203.0.113.7"
    # What the client itself wrote on the left is not believed.
    assert address_of("10.0.0.1", "6.6.6.6, 203.0.113.7") == "203.0.113.7"
    # Chained trusted proxies are skipped.
    assert address_of("::1", "203.0.113.7, 10.0.0.2") == "203.0.113.7"
    # Garbage or no header: the last address a trusted proxy vouched for.
    assert address_of("10.0.0.1", "not-an-address, 10.0.0.3") == "10.0.0.3"
    assert address_of("10.0.0.1") == "10.0.0.1"


@pytest.mark.django_db
def test_audit_entries_show_the_resolved_client_address(client, users, settings):
    settings.TRUSTED_PROXIES = ["127.0.0.1"]
    form_login(client, "annotator_owner", PASSWORD, HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.9")
    assert AuditEntry.objects.get(action="session.login").client_address == "203.0.113.9"
    settings.TRUSTED_PROXIES = []
    form_login(client, "annotator_member", "wrong", HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert AuditEntry.objects.get(action="session.login_failed").client_address == "127.0.0.1"


@pytest.mark.django_db
def test_behind_the_proxy_one_flooding_client_does_not_throttle_another(client, users,
                                                                        settings):
    settings.TRUSTED_PROXIES = ["127.0.0.1"]
    flood(client, settings, HTTP_X_FORWARDED_FOR="203.0.113.66")
    assert LoginFailure.objects.filter(client_address="203.0.113.66").count() == (
        settings.LOGIN_ADDRESS_FAILURE_LIMIT)
    assert b"from this address" in form_login(
        client, "made-up-x", "guess", HTTP_X_FORWARDED_FOR="203.0.113.66").content
    # Another client behind the same proxy: a typo is just a typo, then it signs in.
    other = {"HTTP_X_FORWARDED_FOR": "203.0.113.77"}
    assert b"not correct" in form_login(client, "made-up-x", "guess", **other).content
    assert form_login(client, "annotator_owner", PASSWORD, **other).status_code == 302


# --- E-signatures ---------------------------------------------------------------------------

MASK = content_sha256(b"lockout test mask")


@pytest.mark.django_db
def test_a_flood_does_not_stop_e_signatures(client, users, sites, settings):
    flood(client, settings)
    with acting_from("127.0.0.1", "web"):
        do_sign(users["annotator"], PASSWORD, sites["home"], MASK, Meaning.CONFIRMED)
    assert Signature.objects.count() == 1


@pytest.mark.django_db
def test_signature_failures_lock_that_account_only_with_the_sign_in_lock(client, users, sites,
                                                                        settings):
    signer = users["annotator"]
    with acting_from("198.51.100.50", "web"):
        for _ in range(settings.LOGIN_FAILURE_LIMIT):
            with pytest.raises(SignatureRefused):
                do_sign(signer, "guess 123456", sites["home"], MASK, Meaning.CONFIRMED)
        with pytest.raises(SignatureRefused, match="Too many failed sign-in attempts"):
            do_sign(signer, PASSWORD, sites["home"], MASK, Meaning.CONFIRMED)
        do_sign(users["reviewer"], PASSWORD, sites["home"], MASK, Meaning.CONFIRMED)
    assert b"locked for this account" in form_login(client, signer.username, PASSWORD).content
    assert Signature.objects.count() == 1
