"""Issue 20 (also weak): numbers in the query string, the body or the path of the exports API
and pages that are not ids -- letters, or past 64 bits -- answer a 4xx naming what was wrong,
never a 500 (``core.params``)."""
import pytest

pytestmark = pytest.mark.django_db

HUGE = "9" * 20


@pytest.mark.parametrize("url, name", [
    ("/api/v1/exports/?result=abc", "result"),
    (f"/api/v1/exports/?result={HUGE}", "result"),
    ("/api/v1/exports/?result=-3", "result"),
    ("/api/v1/exports/references?series=abc", "series"),
    (f"/api/v1/exports/references?series={HUGE}", "series"),
])
def test_a_malformed_query_id_is_a_400_naming_it(api_as, url, name):
    response = api_as("annotator").get(url)
    assert response.status_code == 400, response.content[:300]
    assert name in response.json()


@pytest.mark.parametrize("method, url", [
    ("post", f"/api/v1/exports/results/{HUGE}/nifti"),
    ("get", f"/api/v1/exports/results/{HUGE}/comparison"),
])
def test_an_id_past_64_bits_in_the_path_is_not_found(api_as, method, url):
    response = getattr(api_as("annotator"), method)(url)
    assert response.status_code == 404, response.content[:300]


@pytest.mark.parametrize("results", [[HUGE], ["abc"], [0], "1,abc"])
def test_a_malformed_seg_request_is_a_400_naming_results(api_as, results):
    response = api_as("annotator").post("/api/v1/exports/seg", {"results": results},
                                        format="json")
    assert response.status_code == 400, response.content[:300]
    assert "results" in response.json()


def test_a_form_seg_request_with_a_malformed_id_is_a_400(api_as):
    response = api_as("annotator").post("/api/v1/exports/seg", {"results": f"1,{HUGE}"})
    assert response.status_code == 400
    assert "results" in response.json()


def test_a_malformed_comparison_version_is_a_400(head_series, make_result, api_as):
    from tests.backend.exports.conftest import box_mask

    result = make_result(head_series, "liver-ct", box_mask(slice(10, 20), slice(10, 20)),
                         confirm=False)
    for bad in ("abc", HUGE, "0"):
        response = api_as("annotator").get(
            f"/api/v1/exports/results/{result.pk}/comparison", {"version": bad})
        assert response.status_code == 400, (bad, response.content[:300])
        assert "version" in response.json()


@pytest.mark.parametrize("url", [f"/exports/results/{HUGE}/",
                                 f"/exports/series/{HUGE}/references/"])
def test_pages_with_an_id_past_64_bits_are_not_found(browser_as, url):
    assert browser_as("annotator").get(url).status_code == 404


@pytest.mark.parametrize("ticked", ["abc", HUGE, "-1"])
def test_a_malformed_ticked_result_on_the_page_is_ignored(head_series, make_result, browser_as,
                                                          ticked):
    from tests.backend.exports.conftest import box_mask

    result = make_result(head_series, "liver-ct", box_mask(slice(10, 20), slice(10, 20)))
    response = browser_as("annotator").post(f"/exports/results/{result.pk}/nifti",
                                            {"with": [ticked]})
    assert response.status_code == 200
    response = browser_as("annotator").post(f"/exports/results/{result.pk}/seg",
                                            {"with": [ticked]})
    assert response.status_code == 200
