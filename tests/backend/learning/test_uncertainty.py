"""Active learning: unannotated series ordered by the engine's confidence, least first;
confirmed series are left out; the measure itself runs the real engine on a real slice."""
import numpy as np

from learning.models import UncertaintyScore
from learning.uncertainty import measure
from tests.backend.learning.conftest import SLAB_SLICES, SLABS


def test_it_lists_unannotated_series_least_confident_first(
        skull_entry, skull_results, make_head_series, api_as):
    pin = skull_entry.content["engine"]
    unsure, _, _ = make_head_series(3, patient="NEW-1")
    sure, _, _ = make_head_series(3, patient="NEW-2")
    unscored, _, _ = make_head_series(3, patient="NEW-3")
    for series, confidence in ((sure, 0.95), (unsure, 0.41)):
        UncertaintyScore.objects.create(series=series, structure_key="skull-ct",
                                        engine=pin["name"], weights_sha256=pin["weights_sha256"],
                                        confidence=confidence)
    response = api_as("annotator").get(f"/api/v1/learning/uncertainty?prompt_version="
                                       f"{skull_entry.pk}")
    assert response.status_code == 200, response.json()
    order = [row["series"] for row in response.json()["series"]]
    assert order == [unsure.pk, sure.pk, unscored.pk]
    confirmed = {r.series_id for r in skull_results}
    assert not confirmed & set(order)
    assert api_as("auditor").get(f"/api/v1/learning/uncertainty?prompt_version="
                                 f"{skull_entry.pk}").status_code == 403


def test_the_measure_is_the_lower_of_predicted_iou_and_agreement(skull_entry, head_ct):
    from model.engines.registry import get_engine

    first = SLABS[0][1]
    hu = head_ct.hu[first:first + SLAB_SLICES]
    details = measure(get_engine("litemedsam", "cpu"), hu, head_ct.spacing_zyx[1:],
                      skull_entry.content, "CT")
    assert details["slice"] == SLAB_SLICES // 2 and len(details["agreement"]) == 4
    expected = min(details["predicted_iou"], float(np.mean(details["agreement"])))
    assert abs(details["confidence"] - expected) < 1e-3
