"""Issue 20: drafts have an owner. The job's requester owns the draft; only the owner edits,
confirms or rejects it (others: 403 with the reason). The owner or a site admin of the site
hands it on with an audited reassignment (owners before and after, reason)."""
import base64

import pytest

from annotations import masks
from annotations.models import Result
from audit.models import AuditEntry
from tests.backend.annotations.conftest import store_draft
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def url(result, what=""):
    return f"/api/v1/annotations/results/{result.pk}{'/' + what if what else ''}"


def edit_body(result):
    mask = masks.decode(result.latest_mask().data, tuple(result.latest_mask().shape)).copy()
    mask[1, 140:150, 90:150] = 1
    return {"base_version": 1, "data": base64.b64encode(masks.encode(mask)).decode()}


def test_the_requester_owns_the_draft(ai_result, users, api_as):
    assert ai_result.owner == users["annotator"]
    body = api_as("annotator").get(url(ai_result)).json()
    assert body["owner"] == {"id": users["annotator"].pk, "name": "Dr. Annotator Owner"}


def test_another_annotator_cannot_edit_confirm_or_reject_the_draft(ai_result, api_as):
    other = api_as("annotator_member")
    edited = other.post(url(ai_result, "versions"), edit_body(ai_result), format="json")
    assert edited.status_code == 403
    assert "belongs to Dr. Annotator Owner" in edited.json()["detail"]
    for decision, extra in (("confirm", {}), ("reject", {"reason": "not mine"})):
        answer = other.post(url(ai_result, decision),
                            {"version": 1, "password": PASSWORD, **extra}, format="json")
        assert answer.status_code == 403, answer.json()
        assert "only its owner" in answer.json()["detail"]
    ai_result.refresh_from_db()
    assert ai_result.state == "ai_draft" and ai_result.mask_versions.count() == 1
    # The owner still can.
    assert api_as("annotator").post(url(ai_result, "versions"), edit_body(ai_result),
                                    format="json").status_code == 201


def test_a_site_admin_reassigns_the_draft_audited(ai_result, users, api_as):
    answer = api_as("site_admin").post(url(ai_result, "reassign"), {
        "owner": users["annotator_member"].pk, "reason": "Dr. Owner is on leave"},
        format="json")
    assert answer.status_code == 200, answer.json()
    assert answer.json()["owner"]["id"] == users["annotator_member"].pk
    entry = AuditEntry.objects.get(action="result.reassign")
    assert entry.actor_id == users["site_admin"].pk
    assert entry.old_values["owner"] == users["annotator"].pk
    assert entry.new_values["owner"] == users["annotator_member"].pk
    assert entry.reason == "Dr. Owner is on leave"
    transition = ai_result.transitions.get(reason__startswith="reassigned")
    assert "Dr. Annotator Owner" in transition.reason
    # The new owner decides; the old one no longer may.
    assert api_as("annotator").post(url(ai_result, "confirm"), {
        "version": 1, "password": PASSWORD}, format="json").status_code == 403
    confirmed = api_as("annotator_member").post(url(ai_result, "confirm"), {
        "version": 1, "password": PASSWORD}, format="json")
    assert confirmed.status_code == 200, confirmed.json()


def test_the_owner_hands_the_draft_on_but_nobody_else_takes_it(ai_result, users, api_as):
    grab = api_as("annotator_member").post(url(ai_result, "reassign"), {
        "owner": users["annotator_member"].pk, "reason": "mine now"}, format="json")
    assert grab.status_code == 403
    assert "owner or a site admin" in grab.json()["detail"]
    assert api_as("reviewer").post(url(ai_result, "reassign"), {
        "owner": users["annotator_member"].pk, "reason": "x"}, format="json").status_code == 403
    handed = api_as("annotator").post(url(ai_result, "reassign"), {
        "owner": users["annotator_member"].pk, "reason": "end of shift"}, format="json")
    assert handed.status_code == 200, handed.json()
    assert Result.objects.get(pk=ai_result.pk).owner == users["annotator_member"]


@pytest.mark.parametrize("body, field, words", [
    ({"owner": "reviewer", "reason": "x"}, "owner", "not an annotator"),
    ({"owner": "annotator_outsider", "reason": "x"}, "owner", "No user of this site"),
    ({"owner": "annotator_member", "reason": " "}, "reason", ""),
    ({"owner": "annotator", "reason": "again"}, "owner", "already owns"),
    ({"owner": 99999999, "reason": "x"}, "owner", "No user of this site"),
    ({"owner": "abc", "reason": "x"}, "owner", ""),
])
def test_a_bad_reassignment_is_a_400_naming_the_field(ai_result, users, api_as, body, field,
                                                      words):
    body = dict(body)
    if isinstance(body["owner"], str) and body["owner"] in users:
        body["owner"] = users[body["owner"]].pk
    answer = api_as("site_admin").post(url(ai_result, "reassign"), body, format="json")
    assert answer.status_code == 400, answer.json()
    assert field in answer.json()
    assert words in str(answer.json()[field])
    assert not AuditEntry.objects.filter(action="result.reassign").exists()


def test_a_decided_result_is_not_reassigned(ai_result, users, api_as):
    from annotations.confirmation import do_confirm_result

    do_confirm_result(users["annotator"], ai_result, 1, PASSWORD)
    answer = api_as("site_admin").post(url(ai_result, "reassign"), {
        "owner": users["annotator_member"].pk, "reason": "late"}, format="json")
    assert answer.status_code == 400
    assert "only drafts" in answer.json()["state"][0]


def test_another_sites_admin_does_not_see_the_result(ai_result, users, api_as):
    answer = api_as("site_admin_outsider").post(url(ai_result, "reassign"), {
        "owner": users["annotator_member"].pk, "reason": "x"}, format="json")
    assert answer.status_code == 404


def test_a_new_job_does_not_supersede_another_annotators_draft(ai_result, users, library):
    """Running the structure again replaces the requester's own drafts only."""
    from django.db import transaction

    from annotations.actions import do_submit_job

    with transaction.atomic():
        job, _ = do_submit_job(users["annotator_member"], ai_result.series, library["liver-ct"],
                               {"prompts": [{"slice": 1, "box": [80, 90, 150, 140]}]})
        theirs = store_draft(job, 3, rows=slice(90, 140), cols=slice(80, 150))
    assert theirs.owner == users["annotator_member"]
    assert Result.objects.get(pk=ai_result.pk).state == "ai_draft"
