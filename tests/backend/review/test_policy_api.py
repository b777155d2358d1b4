"""The site's QA policy and watch list: site administrators change them, audited."""
import pytest

from audit.models import AuditEntry
from review.models import SitePolicy, WatchedAnnotator

pytestmark = pytest.mark.django_db


def test_a_site_admin_changes_the_policy_and_it_is_audited(api_as, sites):
    response = api_as("site_admin").patch(
        "/api/v1/review/policy", {"first_n_per_version": 7, "review_mode": "independent",
                                  "reason": "pilot of blinded independent reading"},
        format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["updated_by"] == "Dr. Site Admin Owner"
    policy = SitePolicy.objects.get(site=sites["home"])
    assert (policy.first_n_per_version, policy.review_mode) == (7, "independent")
    entry = AuditEntry.objects.get(action="qa_policy.update")
    assert entry.old_values == {"first_n_per_version": 20, "review_mode": "show_mask"}
    assert entry.new_values == {"first_n_per_version": 7, "review_mode": "independent"}
    assert entry.reason == "pilot of blinded independent reading"


@pytest.mark.parametrize("who", ["reviewer", "auditor", "annotator", "prompt_admin"])
def test_others_cannot_change_it(api_as, who, sites):
    response = api_as(who).patch("/api/v1/review/policy", {"first_n_per_version": 0},
                                 format="json")
    assert response.status_code == 403
    assert not AuditEntry.objects.filter(action="qa_policy.update").exists()


def test_rates_outside_zero_to_one_are_refused(api_as):
    response = api_as("site_admin").patch("/api/v1/review/policy", {"alert_edit_rate": 1.5},
                                          format="json")
    assert response.status_code == 400
    assert "between 0 and 1" in str(response.json())


def test_watching_an_annotator_needs_a_reason_and_their_own_site(api_as, users):
    client = api_as("site_admin")
    url = "/api/v1/review/policy/watched"
    assert client.post(url, {"annotator": users["annotator"].pk}, format="json"
                       ).status_code == 400
    outsider = client.post(url, {"annotator": users["annotator_outsider"].pk,
                                 "reason": "x"}, format="json")
    assert outsider.status_code == 400
    added = client.post(url, {"annotator": users["annotator"].pk, "reason": "new hire"},
                        format="json")
    assert added.status_code == 201
    assert [w["annotator_name"] for w in client.get(url).json()] == ["Dr. Annotator Owner"]
    removed = client.post(f"{url}/{users['annotator'].pk}/remove", {"reason": "done"},
                          format="json")
    assert removed.status_code == 204
    assert not WatchedAnnotator.objects.exists()
    assert list(AuditEntry.objects.filter(action__startswith="qa_watch").values_list(
        "action", flat=True)) == ["qa_watch.add", "qa_watch.remove"]
    assert api_as("reviewer").post(url, {"annotator": users["annotator"].pk, "reason": "x"},
                                   format="json").status_code == 403
