"""/api/v1/audit/: auditors read, filter, export and verify; nobody else reads; nobody writes.
Every read is itself recorded."""
import csv
import io

import pytest

from audit.context import acting_from
from audit.models import AuditEntry, Meaning
from audit.signatures import content_sha256, do_sign
from audit.trail import record_event
from tests.conftest import PASSWORD


@pytest.fixture
def trail(users, sites):
    record_event(action="prompt_version.approve", actor=users["prompt_admin"],
                 target=sites["home"], reason="=HYPERLINK(\"http://evil\")")
    record_event(action="image.read", actor=users["annotator"], object_type="imaging.series",
                 object_id="1.2.840.1")
    record_event(action="image.read", actor=users["reviewer"], object_type="imaging.series",
                 object_id="1.2.840.2")


@pytest.mark.parametrize(
    ("who", "status"),
    [(None, 403), ("norole", 403), ("annotator", 403), ("reviewer", 403),
     ("prompt_admin", 403), ("site_admin", 403), ("auditor", 200)],
)
def test_only_auditors_read_the_trail(api_as, trail, who, status):
    assert api_as(who).get("/api/v1/audit/entries").status_code == status
    assert api_as(who).get("/api/v1/audit/verify").status_code == status


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
@pytest.mark.parametrize("url", ["/api/v1/audit/entries", "/api/v1/audit/entries/1"])
def test_nobody_writes_not_even_an_auditor(api_as, trail, method, url):
    assert getattr(api_as("auditor"), method)(url, {}, format="json").status_code == 405
    assert getattr(api_as("site_admin"), method)(url, {}, format="json").status_code == 403


def test_it_filters_by_user_action_object_and_period(api_as, trail, users):
    client = api_as("auditor")
    by_user = client.get("/api/v1/audit/entries", {"user": "annotator_owner"}).json()
    assert {e["action"] for e in by_user["results"]} == {"image.read"}
    by_id = client.get("/api/v1/audit/entries", {"user": users["annotator"].pk}).json()
    assert by_id["count"] == by_user["count"]
    reads = client.get("/api/v1/audit/entries", {"action": "image.*"}).json()
    assert [e["object_id"] for e in reads["results"]] == ["1.2.840.2", "1.2.840.1"]
    one = client.get("/api/v1/audit/entries",
                     {"object_type": "imaging.series", "object_id": "1.2.840.1"}).json()
    assert one["count"] == 1
    future = client.get("/api/v1/audit/entries", {"since": "2999-01-01"}).json()
    assert future["count"] == 0
    today = client.get("/api/v1/audit/entries", {"until": "2000-01-01"}).json()
    assert today["count"] == 0


def test_it_explains_a_bad_filter(api_as, trail):
    response = api_as("auditor").get("/api/v1/audit/entries", {"since": "yesterday-ish"})
    assert response.status_code == 400
    assert "since" in response.json()


def test_every_read_is_recorded(api_as, trail, users):
    client = api_as("auditor")
    client.get("/api/v1/audit/entries", {"action": "image.*"})
    read = AuditEntry.objects.filter(action="audit.read").latest("seq")
    assert read.actor_id == users["auditor"].pk
    assert read.new_values["filters"] == {"action": "image.*"}
    client.get("/api/v1/audit/verify")
    client.get("/api/v1/audit/entries.csv")
    client.get("/api/v1/audit/objects/accounts.site/1")
    client.get("/api/v1/audit/entries/1")
    actions = AuditEntry.objects.filter(actor_id=users["auditor"].pk).values_list(
        "action", flat=True
    )
    assert list(actions) == [
        "audit.read", "audit.verify", "audit.export", "audit.read_history", "audit.read"
    ]


def test_the_csv_export_is_complete_and_safe_to_open(api_as, trail):
    response = api_as("auditor").get("/api/v1/audit/entries.csv")
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    through = AuditEntry.objects.get(action="audit.export").new_values["through_seq"]
    # The auditor's site's entries (issue 20 item 4: system entries are the platform's).
    exported = AuditEntry.objects.filter(seq__lte=through, site__code="home").order_by("seq")
    assert [int(r["seq"]) for r in rows] == [e.seq for e in exported]
    assert [r["entry_hash"] for r in rows] == [e.entry_hash for e in exported]
    approve = next(r for r in rows if r["action"] == "prompt_version.approve")
    assert approve["reason"] == "'=HYPERLINK(\"http://evil\")"
    assert approve["actor_printed_name"] == "Dr. Prompt Admin Owner"
    assert approve["at"].endswith("Z")
    assert through == AuditEntry.objects.filter(seq__lt=AuditEntry.objects.get(
        action="audit.export").seq + 1).count() - 1


def test_the_verify_endpoint_reports_the_chain(api_as, trail):
    body = api_as("auditor").get("/api/v1/audit/verify").json()
    count = AuditEntry.objects.count() - 1  # the check records itself after walking
    assert body["intact"] is True
    assert body["message"] == f"chain intact ({count} entries)"


def test_an_objects_history_shows_its_entries_and_signatures(api_as, users, sites):
    site = sites["home"]
    with acting_from("10.0.0.8", "api"):
        do_sign(users["annotator"], PASSWORD, site, content_sha256(b"x"), Meaning.CONFIRMED)
    body = api_as("auditor").get(f"/api/v1/audit/objects/accounts.site/{site.pk}").json()
    assert [e["action"] for e in body["entries"]] == ["signature.sign"]
    (sig,) = body["signatures"]
    assert sig["printed_name"] == "Dr. Annotator Owner"
    assert sig["meaning_display"] == "confirmed as accurate"
    assert sig["intact"] is True
    assert body["entries"][0]["client_address"] == "10.0.0.8"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "since", ["0139-01-25T18:24:51.1-19:09", "1200-01-01", "2026-01-01T00:00+15:00"]
)
def test_a_period_the_database_cannot_compare_is_a_400(api_as, since):
    response = api_as("auditor").get("/api/v1/audit/entries", {"since": since})
    assert response.status_code == 400
