"""The viewer page in QA mode (/annotations/series/<series>/?qa=<item>) carries only what the
blinding discloses: the case, its mode, the protocol and the review API's URLs; the confirmed
mask's URL only where the reading may show it; never the result, the first reader, their
edits, signature, flags or why the case was sampled."""
import base64
import re

import pytest

from annotations import masks
from review.actions import do_update_policy
from review.models import QAItem
from tests.backend.review.conftest import AI_MASK, box_mask
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

# What the first reading would leak onto the page: who confirmed, their signature, the flag
# and the sampling reasons (see review.blinding).
FIRST_READING_TEXT = ("Annotator Owner", "annotator_owner", "volume_out_of_range", "too big",
                      "confirmed as accurate", "flagged", "new_version")

# Everything the viewer is given in QA mode: nothing names the result or a first reader.
PAGE_DATA = {
    "data-series", "data-can-edit", "data-user", "data-open-result", "data-csrf",
    "data-worklist-url", "data-qa-item", "data-qa-mode", "data-qa-state", "data-qa-mine",
    "data-qa-prompt-version", "data-qa-reader-stored", "data-qa-item-url",
    "data-qa-verdict-url", "data-qa-case-url", "data-qa-mask-url", "data-qa-reader-mask-url",
}


@pytest.fixture
def case(sites, users, make_version, make_result, decide):
    def make(mode: str) -> QAItem:
        do_update_policy(users["site_admin"], sites["home"], {"review_mode": mode})
        result = make_result(make_version(key=f"liver-{mode}"),
                             flags=[{"code": "volume_out_of_range", "message": "too big"}])
        decide(result, edit=box_mask(slice(2, 6), slice(2, 8)))
        return QAItem.objects.get(result=result)

    return make


def viewer(client, item, qa=None):
    number = item.pk if qa is None else qa
    return client.get(f"/annotations/series/{item.result.series_id}/?qa={number}")


def attributes(page: str) -> dict[str, str]:
    root = re.search(r'<div class="viewer-app" id="viewer-app"(.*?)>', page, re.S).group(1)
    return dict(re.findall(r'(data-[\w-]+)="([^"]*)"', root))


def assert_nothing_of_the_first_reading(page: str, item) -> None:
    for text in FIRST_READING_TEXT:
        assert text not in page, text
    data = attributes(page)
    assert data["data-open-result"] == ""
    assert set(data) <= PAGE_DATA, set(data) - PAGE_DATA
    assert f"/annotations/results/{item.result_id}" not in page
    assert "sign-dialog" not in page  # no confirm / reject of the result here


def test_an_independent_reading_gets_no_mask_url_until_the_own_mask_is_stored(browser_as, case):
    item = case("independent")
    client = browser_as("reviewer")
    client.post(f"/review/items/{item.pk}/start/")
    page = viewer(client, item).content.decode()
    data = attributes(page)
    assert data["data-qa-item"] == str(item.pk) and data["data-qa-mode"] == "independent"
    assert data["data-qa-state"] == "in_review" and data["data-qa-mine"] == "1"
    assert data["data-qa-prompt-version"] == str(item.result.prompt_version_id)
    assert data["data-qa-reader-mask-url"] == f"/api/v1/review/items/{item.pk}/reader-mask"
    assert data["data-qa-verdict-url"] == f"/api/v1/review/items/{item.pk}/verdict"
    assert "data-qa-mask-url" not in data
    assert "/mask\"" not in page.replace("reader-mask\"", "")
    assert 'id="qa-draw"' in page and 'id="prompt-chosen"' in page
    assert 'id="prompt-search"' not in page  # the protocol is the result's, not a choice
    assert_nothing_of_the_first_reading(page, item)

    stored = client.post(f"/api/v1/review/items/{item.pk}/reader-mask",
                         {"data": base64.b64encode(masks.encode(AI_MASK)).decode()},
                         content_type="application/json")
    assert stored.status_code == 200, stored.content
    page = viewer(client, item).content.decode()
    data = attributes(page)
    assert data["data-qa-mask-url"] == f"/api/v1/review/items/{item.pk}/mask"
    assert data["data-qa-reader-stored"] == "1"
    assert_nothing_of_the_first_reading(page, item)  # still blind to the first reader

    client.post(f"/api/v1/review/items/{item.pk}/verdict",
                {"verdict": "agree", "password": PASSWORD}, content_type="application/json")
    assert QAItem.objects.get(pk=item.pk).state == "agreed"
    assert attributes(viewer(client, item).content.decode())["data-qa-state"] == "agreed"


def test_a_show_mask_reading_gets_the_mask_url_and_no_first_reading(browser_as, case):
    item = case("show_mask")
    client = browser_as("reviewer")
    client.post(f"/review/items/{item.pk}/start/")
    page = viewer(client, item).content.decode()
    data = attributes(page)
    assert data["data-qa-mode"] == "show_mask"
    assert data["data-qa-mask-url"] == f"/api/v1/review/items/{item.pk}/mask"
    assert "data-qa-reader-mask-url" not in data
    assert_nothing_of_the_first_reading(page, item)
    # The case page links to this reading.
    case_page = client.get(f"/review/items/{item.pk}/").content.decode()
    assert (f'href="/annotations/series/{item.result.series_id}/?qa={item.pk}">'
            "Read this case in the viewer</a>") in case_page


def test_the_qa_mode_is_for_reviewers_of_the_site_and_the_case_of_the_series(
        browser_as, case, users, sites):
    item = case("show_mask")
    for role in ("annotator", "site_admin"):
        assert viewer(browser_as(role), item).status_code == 403, role
    assert viewer(browser_as("reviewer_outsider"), item).status_code == 404  # other site
    client = browser_as("reviewer")
    other = case("independent")
    wrong_series = client.get(f"/annotations/series/{item.result.series_id}/?qa={other.pk}")
    assert wrong_series.status_code == 404
    for bad in ("abc", "-1", "99999999999999999999999", ""):
        assert viewer(client, item, qa=bad).status_code == 404, bad


def test_a_case_not_taken_or_taken_by_another_offers_nothing_to_sign(browser_as, case):
    item = case("independent")
    page = viewer(browser_as("reviewer"), item).content.decode()
    assert attributes(page)["data-qa-mine"] == "0"
    assert attributes(page)["data-qa-state"] == "sampled"
    assert "data-qa-mask-url" not in attributes(page)
    browser_as("reviewer_member").post(f"/review/items/{item.pk}/start/")
    page = viewer(browser_as("reviewer"), item).content.decode()
    assert attributes(page)["data-qa-mine"] == "0"
    assert "data-qa-mask-url" not in attributes(page)
    assert_nothing_of_the_first_reading(page, item)
