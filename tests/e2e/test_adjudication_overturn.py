"""An adjudicator overturns a confirmed result in Chromium: the ruling is signed on the QA case
page, the result stops being confirmed, the annotator finds it returned on their worklist with
the reason, and its record offers no export."""
import re

import pytest

from annotations.confirmation import do_confirm_result
from annotations.models import Result
from review.actions import do_record_verdict, do_start_review, do_update_policy
from review.models import QAItem
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)
REASON = "the mask stops short of the caudal tip"


@pytest.fixture
def disagreed(ai_result, users, sites):
    do_update_policy(users["site_admin"], sites["home"], {"review_mode": "show_mask"})
    do_confirm_result(users["annotator"], ai_result, 1, PASSWORD)
    item = QAItem.objects.get(result=ai_result)
    do_start_review(users["reviewer"], item)
    return do_record_verdict(users["reviewer"], item, "disagree", "too short", PASSWORD)


def test_an_overturned_result_returns_to_its_annotator_and_cannot_be_exported(
        page_as, live_server, disagreed):
    adjudicator = page_as("reviewer_member")
    adjudicator.goto(f"{live_server.url}/review/items/{disagreed.pk}/")
    adjudicator.check("input[name=outcome][value=overturned]")
    adjudicator.fill("textarea[name=reason]", REASON)
    adjudicator.fill("input[name=password]", PASSWORD)
    adjudicator.click("button:has-text('Sign ruling')")
    adjudicator.wait_for_selector("text=This case is closed")
    assert "confirmed mask overturned" in adjudicator.inner_text("body")
    result = Result.objects.get(pk=disagreed.result_id)
    assert result.state == "overturned"

    annotator = page_as("annotator")
    annotator.goto(f"{live_server.url}/annotations/")
    returned = annotator.inner_text("#returned-to-you")
    assert REASON in returned
    assert annotator.locator("#worklist .state-overturned").count() == 1
    annotator.click("#returned-to-you >> a >> nth=0")
    annotator.wait_for_url(re.compile(rf"/annotations/results/{result.pk}/$"))
    assert REASON in annotator.inner_text("#overturned")
    assert annotator.locator("form[action*='/exports/']").count() == 0
    annotator.goto(f"{live_server.url}/exports/results/{result.pk}/")
    assert "overturned at QA adjudication" in annotator.inner_text("#not-exportable")
    assert annotator.locator("button:has-text('SEG')").count() == 0
