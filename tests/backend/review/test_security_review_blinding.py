"""Issue 20 item 1: blinding is one policy (``review.blinding.hide_blinded``). A reviewer's
QA figures leave out the results of open blinded readings -- counts per annotator would
otherwise say who read the case first -- until the verdict; other roles see every result."""
import pytest

from review.actions import do_update_policy
from review.blinding import hide_blinded, is_blinded
from review.models import QAItem
from tests.backend.review.conftest import box_mask

pytestmark = pytest.mark.django_db


@pytest.fixture
def open_case(sites, users, make_version, make_result, decide):
    do_update_policy(users["site_admin"], sites["home"], {"review_mode": "independent"})
    result = make_result(make_version(key="liver-blind"))
    decide(result, edit=box_mask(slice(2, 6), slice(2, 8)))
    return QAItem.objects.get(result=result)


def by_annotator(client) -> dict:
    body = client.get("/api/v1/review/metrics", {"group_by": "annotator"}).json()
    return {g["label"]: g["decided"] for g in body["groups"]}


def test_a_reviewers_figures_leave_out_an_open_blinded_case(open_case, api_as, browser_as):
    assert by_annotator(api_as("reviewer")) == {}
    assert by_annotator(api_as("prompt_admin")) == {"Dr. Annotator Owner": 1}
    page = browser_as("reviewer").get("/review/metrics/?group_by=annotator").content.decode()
    assert "Dr. Annotator Owner" not in page


def test_the_figures_count_the_case_once_its_reading_is_over(open_case, api_as):
    QAItem.objects.filter(pk=open_case.pk).update(state="agreed")
    assert by_annotator(api_as("reviewer")) == {"Dr. Annotator Owner": 1}


def test_the_policy_spares_the_first_reader_and_other_roles(open_case, users):
    from annotations.models import Result

    results = Result.objects.all()
    assert is_blinded(users["reviewer"], open_case.result)
    assert not hide_blinded(results, users["reviewer"]).exists()
    assert not is_blinded(users["annotator"], open_case.result)
    for who in ("annotator", "site_admin", "auditor", "prompt_admin"):
        assert hide_blinded(results, users[who]).count() == 1, who


def test_the_api_and_the_qa_page_agree_on_who_is_blinded(open_case, make_user):
    """``disclosure`` (the QA item) and ``hide_blinded`` (everything else) are one rule: a
    reviewer who is also an auditor sees the first reading in both, a plain reviewer in
    neither."""
    from accounts.roles import Role
    from annotations.models import Result
    from review.blinding import disclosure

    dual = make_user("reviewer_auditor", Role.REVIEWER, Role.AUDITOR)
    reviewer = make_user("plain_reviewer", Role.REVIEWER)
    for user, blind in ((dual, False), (reviewer, True)):
        assert disclosure(open_case, user).blinded is blind
        assert is_blinded(user, open_case.result) is blind
        assert hide_blinded(Result.objects.all(), user).exists() is not blind
