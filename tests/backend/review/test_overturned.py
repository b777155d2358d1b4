"""An adjudication that overturns a confirmed result has consequences: the result is no
longer confirmed, not exportable, back on its annotator's worklist with the reason, counted in
the metrics and the reports; an upheld ruling changes nothing."""
import pytest

from annotations.models import Result, ResultState
from audit.models import AuditEntry
from review.models import QAItem
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db
REASON = "the mask leaves out the caudate lobe"


@pytest.fixture
def disagreed(api_as, make_version, make_result, decide):
    result = make_result(make_version())
    decide(result)
    item = QAItem.objects.get(result=result)
    reviewer = api_as("reviewer")
    reviewer.post(f"/api/v1/review/items/{item.pk}/start", {}, format="json")
    reviewer.post(f"/api/v1/review/items/{item.pk}/verdict", {
        "verdict": "disagree", "reason": "misses the caudate", "password": PASSWORD},
        format="json")
    return item


def adjudicate(api_as, item, outcome):
    return api_as("reviewer_member").post(f"/api/v1/review/items/{item.pk}/adjudicate", {
        "outcome": outcome, "reason": REASON, "password": PASSWORD}, format="json")


def test_an_overturned_result_stops_counting_as_confirmed(api_as, browser_as, disagreed,
                                                          users):
    result = disagreed.result
    assert adjudicate(api_as, disagreed, "overturned").status_code == 200
    result.refresh_from_db()
    assert result.state == ResultState.OVERTURNED
    transition = result.transitions.get(to_state="overturned")
    assert transition.actor == users["reviewer_member"] and REASON in transition.reason
    entry = AuditEntry.objects.get(action="result.overturn", object_id=str(result.pk))
    assert entry.actor_id == users["reviewer_member"].pk and entry.reason == REASON

    # Not exportable, with what to do.
    refused = api_as("annotator").get(f"/api/v1/exports/results/{result.pk}/nifti")
    if refused.status_code == 405:  # exports that write are POSTs
        refused = api_as("annotator").post(f"/api/v1/exports/results/{result.pk}/nifti")
    assert refused.status_code == 403
    assert "overturned" in refused.json()["detail"]

    # Back on the annotator's worklist, with the adjudicator's reason.
    rows = api_as("annotator").get("/api/v1/annotations/worklist").json()["series"]
    states = [s for row in rows for s in row["structures"] if s["result"] == result.pk]
    assert [s["state"] for s in states] == ["overturned"]
    assert REASON in states[0]["note"]
    page = browser_as("annotator").get("/annotations/").content.decode()
    assert 'id="returned-to-you"' in page and REASON in page
    record = browser_as("annotator").get(f"/annotations/results/{result.pk}/").content.decode()
    assert 'id="overturned"' in record and REASON in record
    assert "Overturned at QA" in record

    # A new result of the structure can be confirmed without superseding anything.
    assert not Result.objects.filter(series=result.series, state="confirmed").exists()


def test_an_upheld_ruling_leaves_the_result_confirmed(api_as, disagreed):
    assert adjudicate(api_as, disagreed, "upheld").status_code == 200
    result = Result.objects.get(pk=disagreed.result_id)
    assert result.state == ResultState.CONFIRMED
    assert not AuditEntry.objects.filter(action="result.overturn").exists()


def test_metrics_count_an_overturned_result_as_confirmed_by_its_annotator_and_overturned(
        api_as, disagreed):
    from review.metrics import Scope, compute

    adjudicate(api_as, disagreed, "overturned")
    [group] = compute(Scope(site_id=disagreed.site_id))
    assert (group.decided, group.accepted, group.rejected, group.overturned) == (1, 1, 0, 1)


def test_a_refused_adjudication_overturns_nothing(api_as, disagreed):
    response = api_as("reviewer_member").post(
        f"/api/v1/review/items/{disagreed.pk}/adjudicate",
        {"outcome": "overturned", "reason": REASON, "password": "wrong"}, format="json")
    assert response.status_code in (400, 403)
    assert Result.objects.get(pk=disagreed.result_id).state == ResultState.CONFIRMED
