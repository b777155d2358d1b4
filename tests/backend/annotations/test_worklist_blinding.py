"""The worklist keeps a reviewer's open blinded QA readings out, as the results API does."""
import pytest

from tests.backend.review.conftest import (  # noqa: F401  (fixtures)
    decide,
    make_result,
    make_version,
    series,
)

pytestmark = pytest.mark.django_db


def test_a_reviewer_does_not_see_a_result_of_their_open_blinded_reading(
    api_as, make_version, make_result, decide,  # noqa: F811
):
    from review.models import QAItem

    result = make_result(make_version(key="liver-blind"),
                         flags=[{"code": "volume_out_of_range", "message": "too big"}])
    decide(result)
    assert QAItem.objects.filter(result=result).exists()

    def listed(key):
        rows = api_as(key).get("/api/v1/annotations/worklist").json()["series"]
        return [s["result"] for row in rows for s in row["structures"]]

    assert result.pk in listed("annotator")
    assert result.pk not in listed("reviewer")
