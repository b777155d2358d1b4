"""The second reading and the adjudication through the API: who may do which step, the rows
and audit entries each step leaves, and signatures with their meanings."""
import pytest

from accounts.roles import Role
from audit.models import AuditEntry, Signature
from review.models import QAItem
from review.readers import first_readers
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def item(make_version, make_result, decide):
    """A sampled confirmed result (the first of its version, so always sampled)."""
    result = make_result(make_version())
    decide(result)
    return QAItem.objects.get(result=result)


def url(item, step=""):
    return f"/api/v1/review/items/{item.pk}{'/' + step if step else ''}"


def post(client, item, step, **data):
    return client.post(url(item, step), data, format="json")


def test_it_lists_the_queue_for_reviewers_only(api_as, item):
    body = api_as("reviewer").get("/api/v1/review/items", {"state": "sampled"}).json()
    assert [i["id"] for i in body["results"]] == [item.pk]
    assert api_as("annotator").get("/api/v1/review/items").status_code == 403
    assert api_as("auditor").get("/api/v1/review/items").status_code == 403
    assert api_as("reviewer_outsider").get("/api/v1/review/items").json()["results"] == []
    assert api_as("reviewer_outsider").get(url(item)).status_code == 404


def test_an_agreement_is_signed_and_each_step_is_a_row_and_an_audit_entry(api_as, item, users):
    client = api_as("reviewer")
    assert post(client, item, "start").json()["state"] == "in_review"
    response = post(client, item, "verdict", verdict="agree", password=PASSWORD)
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["state"] == "agreed" and body["verdict"] == "agree"
    assert body["review_signature"]["printed_name"] == "Dr. Reviewer Owner"
    assert body["review_signature"]["meaning_display"] == "reviewed"
    assert [(t["from_state"], t["to_state"], t["actor"]) for t in body["transitions"]] == [
        ("", "sampled", None), ("sampled", "in_review", "Dr. Reviewer Owner"),
        ("in_review", "agreed", "Dr. Reviewer Owner")]
    actions = list(AuditEntry.objects.filter(object_type="review.qaitem", object_id=str(item.pk))
                   .values_list("action", flat=True))
    assert actions == ["qa.in_review", "signature.sign", "qa.agreed"]
    signature = Signature.objects.get(meaning="reviewed")
    assert signature.signer == users["reviewer"]


def test_a_disagreement_needs_a_reason_and_goes_to_adjudication(api_as, item):
    client = api_as("reviewer")
    post(client, item, "start")
    refused = post(client, item, "verdict", verdict="disagree", password=PASSWORD)
    assert refused.status_code == 400
    assert "reason" in refused.json()
    body = post(client, item, "verdict", verdict="disagree", reason="misses the caudal tip",
                password=PASSWORD).json()
    assert body["state"] == "disagreed" and body["verdict_reason"] == "misses the caudal tip"


def test_no_reader_adjudicates_their_own_case(api_as, make_user, make_version, make_result,
                                              decide, users):
    dual = make_user("dual_reader", Role.ANNOTATOR, Role.REVIEWER)
    users["dual"] = dual
    result = make_result(make_version(), by="dual")
    decide(result, by="dual")
    item = QAItem.objects.get(result=result)
    assert first_readers(result) == {dual.pk}
    # The first reader cannot be the second one either.
    assert post(api_as("dual"), item, "start").status_code == 403
    post(api_as("reviewer"), item, "start")
    post(api_as("reviewer"), item, "verdict", verdict="disagree", reason="too small",
         password=PASSWORD)
    for reader in ("reviewer", "dual"):
        response = post(api_as(reader), item, "adjudicate", outcome="upheld", reason="fine",
                        password=PASSWORD)
        assert response.status_code == 403, reader
        assert "third person" in response.json()["detail"]
    assert QAItem.objects.get(pk=item.pk).state == "disagreed"
    response = post(api_as("reviewer_member"), item, "adjudicate", outcome="overturned",
                    reason="the mask misses the caudal tip", password=PASSWORD)
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["state"] == "adjudicated" and body["adjudication"] == "overturned"
    assert body["adjudicator"] == "Dr. Reviewer Member"
    assert body["adjudication_signature"]["meaning_display"] == "adjudicated"
    assert body["transitions"][-1]["reason"] == "the mask misses the caudal tip"


def test_only_an_open_disagreement_can_be_adjudicated(api_as, item):
    post(api_as("reviewer"), item, "start")
    post(api_as("reviewer"), item, "verdict", verdict="agree", password=PASSWORD)
    response = post(api_as("reviewer_member"), item, "adjudicate", outcome="upheld",
                    reason="fine", password=PASSWORD)
    assert response.status_code == 400


def test_only_the_reviewer_who_started_records_the_verdict(api_as, item):
    post(api_as("reviewer"), item, "start")
    assert post(api_as("reviewer_member"), item, "start").status_code == 400
    response = post(api_as("reviewer_member"), item, "verdict", verdict="agree",
                    password=PASSWORD)
    assert response.status_code == 403
    assert QAItem.objects.get(pk=item.pk).state == "in_review"


def test_a_wrong_password_signs_nothing(api_as, item):
    post(api_as("reviewer"), item, "start")
    response = post(api_as("reviewer"), item, "verdict", verdict="agree", password="guess")
    assert response.status_code == 403
    assert "password" in response.json()
    assert QAItem.objects.get(pk=item.pk).state == "in_review"
    assert not Signature.objects.filter(meaning="reviewed").exists()
    assert AuditEntry.objects.filter(action="signature.refused").count() == 1


def test_a_started_case_can_be_handed_back_with_a_reason(api_as, item):
    client = api_as("reviewer")
    post(client, item, "start")
    assert post(client, item, "release").status_code == 400
    body = post(client, item, "release", reason="called to theatre").json()
    assert body["state"] == "sampled" and body["reviewer"] is None
    assert AuditEntry.objects.filter(action="qa.release", reason="called to theatre").exists()


@pytest.mark.parametrize("who", ["annotator", "auditor", "site_admin", "prompt_admin", "norole"])
def test_only_reviewers_review(api_as, item, who):
    client = api_as(who)
    assert post(client, item, "start").status_code == 403
    assert post(client, item, "verdict", verdict="agree", password=PASSWORD).status_code == 403
    assert QAItem.objects.get(pk=item.pk).state == "sampled"
