"""/audit/: the auditor's pages, read-only and closed to every other role."""
import pytest

from audit.models import AuditEntry, Meaning
from audit.signatures import content_sha256, do_sign
from audit.trail import record_event
from tests.conftest import PASSWORD


@pytest.fixture
def trail(users, sites):
    record_event(action="result.confirm", actor=users["annotator"], target=sites["home"],
                 old={"state": "ai_draft"}, new={"state": "confirmed"})
    do_sign(users["annotator"], PASSWORD, sites["home"], content_sha256(b"m"), Meaning.CONFIRMED)


@pytest.mark.parametrize("who", ["norole", "annotator", "reviewer", "prompt_admin", "site_admin"])
@pytest.mark.parametrize("url", ["/audit/", "/audit/export.csv", "/audit/verify/"])
def test_other_roles_are_refused(browser_as, trail, who, url):
    assert browser_as(who).get(url).status_code == 403


def test_a_visitor_is_sent_to_sign_in(client, trail):
    response = client.get("/audit/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_an_auditor_browses_and_filters_the_trail(browser_as, trail):
    page = browser_as("auditor").get("/audit/", {"action": "result.*"})
    html = page.content.decode()
    assert page.status_code == 200
    assert "result.confirm" in html and "Dr. Annotator Owner" in html
    assert "signature.sign" not in html
    assert "export.csv?action=result.%2A" in html


def test_a_bad_period_is_explained(browser_as, trail):
    page = browser_as("auditor").get("/audit/", {"since": "2026-02-01", "until": "2026-01-01"})
    assert page.status_code == 400
    assert "The period must start before it ends." in page.content.decode()


def test_the_pages_do_not_accept_posts(browser_as, trail):
    assert browser_as("auditor").post("/audit/").status_code == 405


def test_an_objects_history_shows_the_signature(browser_as, trail, sites):
    html = browser_as("auditor").get(f"/audit/objects/accounts.site/{sites['home'].pk}/")
    text = html.content.decode()
    assert "Electronically signed by <strong>Dr. Annotator Owner</strong>" in text
    assert "confirmed as accurate" in text
    assert "result.confirm" in text


def test_an_entry_page_shows_every_field(browser_as, trail):
    entry = AuditEntry.objects.get(action="result.confirm")
    text = browser_as("auditor").get(f"/audit/entries/{entry.seq}/").content.decode()
    assert entry.entry_hash in text and entry.prev_hash in text
    assert "ai_draft" in text and "confirmed" in text


def test_the_chain_check_page_reports_the_result(browser_as, trail):
    text = browser_as("auditor").get("/audit/verify/").content.decode()
    assert "chain intact (" in text


def test_the_csv_download(browser_as, trail):
    response = browser_as("auditor").get("/audit/export.csv", {"action": "signature.*"})
    body = b"".join(response.streaming_content).decode()
    assert body.splitlines()[0].startswith("seq,at,actor_id")
    assert len(body.splitlines()) == 2 and "signature.sign" in body


@pytest.mark.parametrize(("who", "shown"), [("auditor", True), ("site_admin", False)])
def test_the_trail_is_linked_for_auditors_only(browser_as, who, shown):
    html = browser_as(who).get("/").content.decode()
    assert ('href="/audit/"' in html) is shown
