"""Issue 20 item 4: an auditor of one site reads none of another site's audit entries (the
trail, one entry, an object's history and signatures, the CSV export, the chain check); the
system's entries (no site) are the platform operator's auditor's (an auditor without a site)."""
import pytest
from django.contrib.auth.models import Group

from accounts.models import User
from audit.models import AuditEntry, Meaning
from audit.signatures import content_sha256, do_sign
from audit.trail import record_event
from tests.conftest import PASSWORD


@pytest.fixture
def home_trail(users, sites):
    read = record_event(action="imaging.read", actor=users["annotator"], target=sites["home"],
                        new={"what": "frames", "patient": "HOME-PATIENT-7"})
    do_sign(users["annotator"], PASSWORD, sites["home"], content_sha256(b"m"), Meaning.CONFIRMED)
    system = record_event(action="system.start", new={"note": "SYSTEM-ONLY"})
    return read, system


def test_entries_carry_their_site(home_trail, sites):
    read, system = home_trail
    assert read.site_id == sites["home"].pk
    assert system.site_id is None


@pytest.mark.parametrize("url", ["/api/v1/audit/entries", "/api/v1/audit/entries.csv",
                                 "/api/v1/audit/verify", "/audit/", "/audit/export.csv",
                                 "/audit/verify/"])
def test_another_sites_auditor_sees_none_of_homes_entries(api_as, home_trail, users, url,
                                                          sites):
    client = api_as("auditor_outsider")
    client.force_login(users["auditor_outsider"])
    response = client.get(url)
    assert response.status_code == 200
    body = (b"".join(response.streaming_content) if response.streaming
            else response.content).decode()
    assert "HOME-PATIENT-7" not in body and "Dr. Annotator Owner" not in body
    assert "SYSTEM-ONLY" not in body
    home = api_as("auditor")
    home.force_login(users["auditor"])
    answer = home.get(url)
    mine = (b"".join(answer.streaming_content) if answer.streaming else answer.content).decode()
    if "verify" not in url:
        assert "HOME-PATIENT-7" in mine and "SYSTEM-ONLY" not in mine


def test_one_entry_and_an_objects_history_are_hidden(api_as, browser_as, home_trail, sites):
    read, _ = home_trail
    outsider = api_as("auditor_outsider")
    assert outsider.get(f"/api/v1/audit/entries/{read.seq}").status_code == 404
    body = outsider.get(f"/api/v1/audit/objects/accounts.site/{sites['home'].pk}").json()
    assert body == {"entries": [], "signatures": []}
    page = browser_as("auditor_outsider")
    assert page.get(f"/audit/entries/{read.seq}/").status_code == 404
    html = page.get(f"/audit/objects/accounts.site/{sites['home'].pk}/").content.decode()
    assert "Dr. Annotator Owner" not in html and "imaging.read" not in html
    home = api_as("auditor").get(f"/api/v1/audit/objects/accounts.site/{sites['home'].pk}")
    assert len(home.json()["signatures"]) == 1


def test_the_platform_auditor_sees_everything(api_as, home_trail, roles):
    platform = User.objects.create_user("platform_auditor", password=PASSWORD, site=None)
    platform.groups.set(Group.objects.filter(name="auditor"))
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(platform)
    actions = [e["action"] for e in client.get("/api/v1/audit/entries").json()["results"]] \
        if isinstance(client.get("/api/v1/audit/entries").json(), dict) else \
        [e["action"] for e in client.get("/api/v1/audit/entries").json()]
    assert "system.start" in actions and "imaging.read" in actions


def test_the_site_is_in_the_hashed_content(home_trail, behind_the_triggers, sites):
    from audit.verify import verify_chain

    read, _ = home_trail
    assert verify_chain().intact
    with behind_the_triggers() as conn, conn.cursor() as cursor:
        cursor.execute("UPDATE audit_auditentry SET site_id = %s WHERE seq = %s",
                       [sites["other"].pk, read.seq])
    report = verify_chain()
    assert (report.intact, report.broken_seq) == (False, read.seq)
    assert AuditEntry.objects.get(seq=read.seq).site_id == sites["other"].pk
