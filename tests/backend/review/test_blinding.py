"""Blinded review: while the second reading is open the reviewer sees the images and the
protocol but not who read the case first, their edits or signature, nor why it was sampled;
in the independent mode not even the confirmed mask until their own is stored."""
import base64

import pytest

from annotations import masks
from review.actions import do_update_policy
from review.models import QAItem
from tests.backend.review.conftest import AI_MASK, box_mask
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

FIRST_READING = ("confirmed_by", "confirmed_at", "decision_signature", "edited", "mask_version",
                 "ai_volume_ml", "confirmed_volume_ml", "flags", "reasons", "transitions")


@pytest.fixture
def case(sites, users, make_version, make_result, decide):
    def make(mode: str):
        do_update_policy(users["site_admin"], sites["home"], {"review_mode": mode})
        result = make_result(make_version(key=f"liver-{mode}"),
                             flags=[{"code": "volume_out_of_range", "message": "too big"}])
        decide(result, edit=box_mask(slice(2, 6), slice(2, 8)))
        return QAItem.objects.get(result=result)

    return make


def item_url(item, step=""):
    return f"/api/v1/review/items/{item.pk}{'/' + step if step else ''}"


def send_mask(client, item, mask):
    return client.post(item_url(item, "reader-mask"),
                       {"data": base64.b64encode(masks.encode(mask)).decode()}, format="json")


def test_the_reviewer_does_not_see_the_first_reading(api_as, case):
    item = case("show_mask")
    client = api_as("reviewer")
    client.post(item_url(item, "start"))
    response = client.get(item_url(item))
    body = response.json()
    assert body["blinded"] is True and body["confirmed_mask_visible"] is True
    assert all(body[name] is None for name in FIRST_READING)
    assert body["series_instance_uid"] and body["mask_shape"] == [2, 10, 10]
    text = response.content.decode()
    assert "Annotator Owner" not in text and "volume_out_of_range" not in text
    assert client.get(item_url(item, "mask")).status_code == 200


def test_after_the_verdict_everything_is_shown(api_as, case):
    item = case("show_mask")
    client = api_as("reviewer")
    client.post(item_url(item, "start"))
    body = client.post(item_url(item, "verdict"), {"verdict": "agree", "password": PASSWORD},
                       format="json").json()
    assert body["blinded"] is False
    assert body["confirmed_by"] == "Dr. Annotator Owner"
    assert body["decision_signature"]["meaning_display"] == "confirmed as accurate"
    assert body["edited"] is True and body["mask_version"] == 2
    assert [r["code"] for r in body["reasons"]] == ["flagged", "new_version"]


def test_independent_mode_hides_the_confirmed_mask_until_the_reviewers_own_is_stored(
        api_as, case):
    item = case("independent")
    client = api_as("reviewer")
    client.post(item_url(item, "start"))
    assert client.get(item_url(item)).json()["confirmed_mask_visible"] is False
    hidden = client.get(item_url(item, "mask"))
    assert hidden.status_code == 403
    assert "blind" in hidden.json()["detail"]
    early = client.post(item_url(item, "verdict"), {"verdict": "agree", "password": PASSWORD},
                        format="json")
    assert early.status_code == 400 and "mask" in early.json()

    stored = send_mask(client, item, AI_MASK)
    assert stored.status_code == 200, stored.json()
    body = stored.json()
    assert body["confirmed_mask_visible"] is True and body["reader_mask_stored"] is True
    assert body["reader_dice"] == 0.8  # the reviewer drew the AI's box; the confirmed is wider
    assert body["blinded"] is True and body["confirmed_by"] is None
    shown = client.get(item_url(item, "mask"))
    assert shown.status_code == 200
    confirmed = masks.decode(shown.content, (2, 10, 10))
    assert confirmed.sum() == 48
    assert send_mask(client, item, AI_MASK).status_code == 400  # stored once


def test_the_annotations_api_does_not_open_an_open_case_to_reviewers(api_as, case):
    item = case("independent")
    result_url = f"/api/v1/annotations/results/{item.result_id}"
    reviewer = api_as("reviewer")
    assert reviewer.get(result_url).status_code == 404
    assert reviewer.get(f"{result_url}/mask").status_code == 404
    assert item.result_id not in [r["id"] for r in reviewer.get(
        "/api/v1/annotations/results").json()["results"]]
    assert api_as("annotator").get(result_url).status_code == 200
    client = api_as("reviewer")
    client.post(item_url(item, "start"))
    send_mask(client, item, AI_MASK)
    client.post(item_url(item, "verdict"), {"verdict": "agree", "password": PASSWORD},
                format="json")
    assert reviewer.get(result_url).status_code == 200


def test_the_adjudicator_sees_both_readings(api_as, case):
    item = case("independent")
    client = api_as("reviewer")
    client.post(item_url(item, "start"))
    send_mask(client, item, AI_MASK)
    client.post(item_url(item, "verdict"), {"verdict": "disagree", "reason": "too wide",
                                             "password": PASSWORD}, format="json")
    body = api_as("reviewer_member").get(item_url(item)).json()
    assert body["blinded"] is False and body["confirmed_by"] == "Dr. Annotator Owner"
    assert body["reader_dice"] == 0.8 and body["verdict_reason"] == "too wide"
