"""Prompt versions whose results are heavily edited or often rejected are flagged to the
prompt administrators, once, and flagged again only after further decisions."""
import pytest

from audit.models import AuditEntry
from review.actions import do_acknowledge_alert, do_evaluate_prompt_version, do_update_policy
from review.models import PromptVersionAlert
from tests.backend.review.conftest import box_mask
from tests.worker import wait_until

WIDER = box_mask(slice(2, 6), slice(2, 9))  # Dice 32*2/(32+56) = 0.727 with the AI mask


@pytest.fixture
def strict(sites, users):
    return do_update_policy(users["site_admin"], sites["home"], {
        "alert_min_decided": 4, "alert_edit_rate": 0.5, "alert_reject_rate": 0.25,
        "alert_min_mean_dice": 0.9})


@pytest.mark.django_db
def test_a_heavily_edited_version_is_flagged_with_its_figures(
        strict, make_version, make_result, decide):
    version = make_version()
    results = [make_result(version) for _ in range(4)]
    decide(results[0])
    decide(results[1])
    decide(results[2], edit=WIDER)
    assert do_evaluate_prompt_version(version) is None  # 3 decided: too early to judge
    decide(results[3], edit=WIDER)
    alert = do_evaluate_prompt_version(version)
    assert [r["code"] for r in alert.reasons] == ["edit_rate", "mean_dice"]
    assert alert.reasons[0]["message"].startswith("2 of 4 results were edited")
    assert alert.figures["dice_mean"] == pytest.approx((2 + 2 * 64 / 88) / 4, abs=1e-4)
    entry = AuditEntry.objects.get(action="prompt_version.qa_alert")
    assert entry.object_id == str(version.pk)
    assert do_evaluate_prompt_version(version) is None  # one open alert per version


@pytest.mark.django_db
def test_a_well_accepted_version_is_not_flagged(strict, make_version, make_result, decide):
    version = make_version()
    for _ in range(5):
        decide(make_result(version))
    assert do_evaluate_prompt_version(version) is None


@pytest.mark.django_db
def test_after_acknowledgement_it_is_flagged_again_only_after_more_decisions(
        strict, users, make_version, make_result, decide):
    version = make_version()
    for _ in range(4):
        decide(make_result(version), reject=True)
    alert = do_evaluate_prompt_version(version)
    assert [r["code"] for r in alert.reasons] == ["reject_rate"]
    with pytest.raises(Exception, match="prompt-library administrator"):
        do_acknowledge_alert(users["reviewer"], alert, "noted")
    do_acknowledge_alert(users["prompt_admin"], alert, "protocol under revision")
    decide(make_result(version), reject=True)
    assert do_evaluate_prompt_version(version) is None
    for _ in range(3):
        decide(make_result(version), reject=True)
    assert do_evaluate_prompt_version(version) is not None
    assert PromptVersionAlert.objects.count() == 2


@pytest.mark.django_db
def test_prompt_admins_list_and_acknowledge_alerts_through_the_api(
        strict, api_as, make_version, make_result, decide):
    version = make_version()
    for _ in range(4):
        decide(make_result(version), reject=True)
    alert = do_evaluate_prompt_version(version)
    body = api_as("prompt_admin").get("/api/v1/review/alerts", {"open": 1}).json()
    assert [a["prompt_version_label"] for a in body["results"]] == ["liver-ct v1"]
    url = f"/api/v1/review/alerts/{alert.pk}/acknowledge"
    assert api_as("auditor").post(url, {"note": "x"}, format="json").status_code == 403
    assert api_as("annotator").get("/api/v1/review/alerts").status_code == 403
    response = api_as("prompt_admin").post(url, {"note": "new template"}, format="json")
    assert response.json()["acknowledged_by"] == "Dr. Prompt Admin Owner"


@pytest.mark.django_db(transaction=True)
def test_the_worker_flags_the_version_after_the_decision_commits(
        strict, make_version, make_result, decide, celery_worker):
    version = make_version()
    for _ in range(4):
        decide(make_result(version), reject=True)
    alert = wait_until(lambda: PromptVersionAlert.objects.filter(prompt_version=version).first(),
                       timeout=60, interval=0.3)
    assert alert.figures["decided"] == 4
