"""Query parameters the schema does not describe (paging of DICOMweb searches) or numbers past
64 bits: a 400 naming the parameter, never a server error. Schemathesis cannot find these --
it only sends what the schema declares -- so they are listed here."""
import pytest

HUGE = "9" * 25
URLS = [
    f"/api/v1/annotations/results?series={HUGE}",
    f"/api/v1/annotations/jobs?study={HUGE}",
    "/api/v1/imaging/dicom-web/studies?offset=abc",
    "/api/v1/imaging/dicom-web/studies?limit=-5",
    f"/api/v1/imaging/dicom-web/studies?offset={HUGE}",
]


@pytest.mark.django_db
@pytest.mark.parametrize("url", URLS)
def test_a_malformed_parameter_is_a_400_naming_it(api_as, url):
    response = api_as("annotator").get(url)
    assert response.status_code == 400, response.content[:300]
    name = url.split("?")[1].split("=")[0]
    assert name in response.json()


@pytest.mark.django_db
@pytest.mark.parametrize("url", [f"/api/v1/annotations/series/{HUGE}/layout",
                                 f"/api/v1/prompts/versions/{HUGE}/",
                                 f"/api/v1/annotations/results/{HUGE}"])
def test_an_id_past_64_bits_in_the_path_is_not_found(api_as, url):
    assert api_as("annotator").get(url).status_code == 404
