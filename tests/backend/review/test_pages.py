"""The QA pages: the queue and a blinded case, signing through the forms, the dashboard with
its plots, alerts, the site's policy and audit reports -- each open to its roles only."""
import pytest

from accounts.roles import Role
from review.models import AuditReport, PromptVersionAlert, QAItem, SitePolicy, WatchedAnnotator
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def item(make_version, make_result, decide):
    result = make_result(make_version())
    decide(result)
    return QAItem.objects.get(result=result)


@pytest.mark.parametrize("path,allowed", [
    ("/review/", {"reviewer"}),
    ("/review/metrics/", {"reviewer", "prompt_admin", "auditor", "site_admin"}),
    ("/review/alerts/", {"prompt_admin", "auditor"}),
    ("/review/policy/", {"site_admin"}),
    ("/review/reports/", {"auditor"}),
])
def test_each_page_is_open_to_its_roles_only(browser_as, client, users, path, allowed):
    for role in ("annotator", "reviewer", "prompt_admin", "auditor", "site_admin", "norole"):
        client.logout()
        response = browser_as(role).get(path)
        assert response.status_code == (200 if role in allowed else 403), (role, path)
    client.logout()
    assert client.get(path).status_code == 302  # to the sign-in page


def test_a_case_is_read_blind_then_signed_through_the_page(browser_as, item):
    client = browser_as("reviewer")
    queue = client.get("/review/").content.decode()
    assert f"QA {item.pk}" in queue
    client.post(f"/review/items/{item.pk}/start/")
    page = client.get(f"/review/items/{item.pk}/").content.decode()
    assert "Blinded reading" in page and "Annotator Owner" not in page
    assert f'data-mask-url="/api/v1/review/items/{item.pk}/mask"' in page
    client.post(f"/review/items/{item.pk}/verdict/",
                {"verdict": "agree", "reason": "", "password": PASSWORD})
    assert QAItem.objects.get(pk=item.pk).state == "agreed"
    page = client.get(f"/review/items/{item.pk}/").content.decode()
    assert "Confirmed by Dr. Annotator Owner" in page
    assert "Dr. Reviewer Owner (reviewer_owner)" in page and "reviewed" in page


def test_a_wrong_password_on_the_page_is_a_message_not_a_signature(browser_as, item):
    client = browser_as("reviewer")
    client.post(f"/review/items/{item.pk}/start/")
    response = client.post(f"/review/items/{item.pk}/verdict/",
                           {"verdict": "agree", "password": "nope"}, follow=True)
    assert "password is not correct" in response.content.decode()
    assert QAItem.objects.get(pk=item.pk).state == "in_review"


def test_the_result_page_is_closed_to_a_reviewer_during_a_blinded_reading(browser_as, item):
    assert browser_as("reviewer").get(f"/annotations/results/{item.result_id}/"
                                      ).status_code == 403


def test_the_dashboard_shows_figures_and_three_plots(browser_as, item):
    page = browser_as("prompt_admin").get("/review/metrics/?group_by=annotator").content.decode()
    assert "Dr. Annotator Owner" in page
    assert page.count('src="data:image/png;base64,') == 3


def test_a_prompt_admin_acknowledges_an_alert_on_the_page(browser_as, item, sites):
    alert = PromptVersionAlert.objects.create(
        prompt_version=item.result.prompt_version, site=sites["home"],
        raised_at="2026-03-01T00:00:00Z", reasons=[{"code": "edit_rate", "message": "9 of 10"}],
        figures={"decided": 10})
    client = browser_as("prompt_admin")
    assert "9 of 10" in client.get("/review/alerts/").content.decode()
    client.post("/review/alerts/", {"alert": alert.pk, "note": "retrain the box template"})
    alert.refresh_from_db()
    assert alert.acknowledgement == "retrain the box template"


def test_a_site_admin_sets_the_policy_and_watches_an_annotator(browser_as, users, sites):
    client = browser_as("site_admin")
    client.post("/review/policy/", {
        "action": "update", "first_n_per_version": 5, "review_mode": "independent",
        "sampling_seed": "s1", "alert_min_decided": 10, "alert_edit_rate": 0.4,
        "alert_reject_rate": 0.2, "alert_min_mean_dice": 0.85, "reason": "stricter start"})
    policy = SitePolicy.objects.get(site=sites["home"])
    assert (policy.first_n_per_version, policy.review_mode) == (5, "independent")
    client.post("/review/policy/", {"action": "watch", "annotator": users["annotator_member"].pk,
                                    "reason": "new resident"})
    assert WatchedAnnotator.objects.filter(annotator=users["annotator_member"]).exists()
    client.post("/review/policy/", {"action": "unwatch",
                                    "annotator": users["annotator_member"].pk,
                                    "reason": "training done"})
    assert not WatchedAnnotator.objects.exists()


def test_an_auditor_requests_a_report_on_the_page(browser_as):
    client = browser_as("auditor")
    client.post("/review/reports/", {"period_start": "2026-03-01", "period_end": "2026-03-31"})
    report = AuditReport.objects.get()
    assert report.status == "queued"
    page = client.get("/review/reports/").content.decode()
    assert "2026-03-01 to 2026-03-31" in page and 'http-equiv="refresh"' in page


def test_the_reviewer_who_is_also_an_annotator_may_not_read_their_own_case(
        make_user, users, browser_as, client, make_version, make_result, decide):
    users["dual"] = make_user("dual_reader", Role.ANNOTATOR, Role.REVIEWER)
    result = make_result(make_version(), by="dual")
    decide(result, by="dual")
    item = QAItem.objects.get(result=result)
    response = browser_as("dual").post(f"/review/items/{item.pk}/start/", follow=True)
    assert "another reviewer must read it" in response.content.decode()
    assert QAItem.objects.get(pk=item.pk).state == "sampled"
