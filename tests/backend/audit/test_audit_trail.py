"""record_event: one entry per call, with who, what, when, why, where and versions, chained."""
from datetime import timedelta

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from audit.chain import GENESIS_HASH
from audit.context import acting_from
from audit.models import AuditEntry
from audit.trail import canonical_address, record_event
from audit.verify import verify_chain


@pytest.mark.django_db
def test_it_records_who_what_when_why_where_and_versions(users, sites):
    actor = users["prompt_admin"]
    before = AuditEntry.objects.count()
    with acting_from("10.1.2.3", "api"):
        entry = record_event(
            action="site.rename",
            actor=actor,
            target=sites["home"],
            old={"name": "Home Hospital"},
            new={"name": "Home University Hospital"},
            reason="official name changed",
            versions={"engine": "litemedsam", "weights_sha256": "ab" * 32, "prompt": "3"},
        )
    assert AuditEntry.objects.count() == before + 1
    stored = AuditEntry.objects.get(pk=entry.pk)
    assert (stored.actor_id, stored.actor_username) == (actor.pk, "prompt_admin_owner")
    assert stored.actor_printed_name == "Dr. Prompt Admin Owner"
    assert (stored.action, stored.object_type) == ("site.rename", "accounts.site")
    assert stored.object_id == str(sites["home"].pk)
    assert stored.old_values == {"name": "Home Hospital"}
    assert stored.new_values == {"name": "Home University Hospital"}
    assert stored.reason == "official name changed"
    assert (stored.client_address, stored.channel) == ("10.1.2.3", "api")
    assert stored.versions["engine"] == "litemedsam"
    assert stored.at.utcoffset() == timedelta(0)
    assert abs(stored.at - timezone.now()) < timedelta(seconds=30)


@pytest.mark.django_db
def test_it_starts_the_chain_at_one_and_links_each_entry_to_the_one_before():
    first = record_event(action="test.first")
    second = record_event(action="test.second")
    assert (first.seq, first.prev_hash) == (1, GENESIS_HASH)
    assert second.seq == first.seq + 1
    assert second.prev_hash == first.entry_hash
    assert second.entry_hash != first.entry_hash


@pytest.mark.django_db
def test_it_takes_the_actor_from_the_request_when_none_is_named(users):
    with acting_from("192.0.2.7", "web", actor=users["reviewer"]):
        entry = record_event(action="qa.open")
    assert entry.actor_id == users["reviewer"].pk
    assert entry.client_address == "192.0.2.7"


@pytest.mark.django_db
def test_it_records_the_system_as_nobody():
    entry = record_event(action="worker.started")
    assert (entry.actor_id, entry.actor_username, entry.actor_printed_name) == (None, "", "")


@pytest.mark.django_db
def test_it_records_the_client_address_of_a_web_request(browser_as):
    browser = browser_as("auditor")
    browser.get("/audit/", REMOTE_ADDR="203.0.113.9")
    entry = AuditEntry.objects.filter(action="audit.read").latest("seq")
    assert (entry.client_address, entry.channel) == ("203.0.113.9", "web")


@pytest.mark.parametrize(
    ("given_address", "stored"),
    [
        ("2001:DB8:0:0:0:0:0:1", "2001:db8::1"),
        ("::ffff:10.0.0.1", "10.0.0.1"),
        ("fe80::1%eth0", "fe80::1"),
        ("not an address", None),
        ("", None),
    ],
)
def test_it_keeps_addresses_in_the_form_the_database_returns(given_address, stored):
    assert canonical_address(given_address) == stored


@pytest.mark.django_db
def test_addresses_in_any_form_keep_the_chain_verifiable():
    for address in ("2001:DB8:0:0:0:0:0:1", "::ffff:10.0.0.1", "127.0.0.1"):
        record_event(action="test.address", client_address=address)
    assert verify_chain().intact


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


@pytest.mark.django_db
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(value=json_values, reason=st.text(alphabet=st.characters(exclude_characters="\x00")))
@example(value=[1e16, -0.0, 2.5e-7, 2**70], reason="")
@example(value={"nan": float("nan"), "inf": float("-inf")}, reason="")
@example(value={"nul\x00key": "nul\x00text"}, reason="")
@example(value={"lone\ud800key": "lone\udfff"}, reason="lone \ud800, as JSON decodes it")
def test_any_values_round_trip_through_the_database_and_still_verify(value, reason):
    entry = record_event(action="test.values", old={"v": value}, new={"v": [value]}, reason=reason)
    stored = AuditEntry.objects.get(pk=entry.pk)
    assert stored.new_values == entry.new_values
    report = verify_chain()
    assert report.intact, report.message

