"""Issue 20 (also weak): ids in the QA API and pages that are not ids -- letters, or past 64
bits (an overflow on PostgreSQL and SQLite) -- answer a 4xx naming what was wrong, never a
500 (``core.params``)."""
import pytest

pytestmark = pytest.mark.django_db

HUGE = "9" * 20


@pytest.mark.parametrize("query", [f"annotator={HUGE}", f"prompt_version={HUGE}", "annotator=0",
                                   "annotator=abc"])
def test_a_malformed_metrics_filter_is_a_400_naming_it(api_as, query):
    response = api_as("reviewer").get(f"/api/v1/review/metrics?{query}")
    assert response.status_code == 400, response.content[:300]
    assert query.split("=")[0] in response.json()


def test_a_watch_request_for_an_id_past_64_bits_is_a_400(api_as):
    response = api_as("site_admin").post("/api/v1/review/policy/watched",
                                         {"annotator": HUGE, "reason": "checking"},
                                         format="json")
    assert response.status_code == 400, response.content[:300]
    assert "annotator" in response.json()


def test_a_report_request_for_an_id_past_64_bits_is_a_400(api_as):
    response = api_as("auditor").post("/api/v1/review/reports", {
        "period_start": "2026-01-01", "period_end": "2026-02-01", "annotator": HUGE,
        "prompt_version": HUGE}, format="json")
    assert response.status_code == 400, response.content[:300]
    assert {"annotator", "prompt_version"} <= set(response.json())


@pytest.mark.parametrize("value", ["abc", HUGE, ""])
def test_the_policy_page_refuses_a_malformed_annotator_with_404(browser_as, value):
    response = browser_as("site_admin").post(
        "/review/policy/", {"action": "unwatch", "annotator": value, "reason": "x"})
    assert response.status_code == 404


@pytest.mark.parametrize("value", ["abc", HUGE])
def test_the_alerts_page_refuses_a_malformed_alert_with_404(browser_as, value):
    response = browser_as("prompt_admin").post("/review/alerts/", {"alert": value})
    assert response.status_code == 404


@pytest.mark.parametrize("url", [f"/review/items/{HUGE}/", f"/api/v1/review/items/{HUGE}"])
def test_an_item_past_64_bits_is_not_found(api_as, browser_as, url):
    client = api_as("reviewer") if url.startswith("/api/") else browser_as("reviewer")
    assert client.get(url).status_code == 404


@pytest.mark.parametrize("field", ["first_n_per_version", "alert_min_decided"])
def test_the_policy_page_refuses_a_count_past_what_the_database_stores(browser_as, field):
    from review.models import SitePolicy

    values = {"action": "update", "first_n_per_version": 5, "review_mode": "independent",
              "sampling_seed": "seed", "alert_min_decided": 5, "alert_edit_rate": 0.5,
              "alert_reject_rate": 0.5, "alert_min_mean_dice": 0.5, "reason": "checking"}
    values[field] = HUGE
    response = browser_as("site_admin").post("/review/policy/", values)
    assert response.status_code == 200
    assert "Ensure this value is less than or equal to 2147483647" in response.content.decode()
    assert not SitePolicy.objects.filter(first_n_per_version=5).exists()
