"""Metric values against figures computed by hand from four constructed results:

r1  liver-ct v1   litemedsam  Owner   confirmed unchanged  Dice 1    16 -> 16 mL   60 s
r2  liver-ct v1   litemedsam  Owner   confirmed, edited    Dice 0.8  16 -> 24 mL  180 s
r3  liver-ct v1   litemedsam  Owner   rejected
r4  spleen-ct v1  medsam2     Member  confirmed, edited    Dice 2/3  16 ->  8 mL  600 s

(Owner and Member: Dr. Annotator Owner and Dr. Annotator Member.)

QA: r1 agreed, r2 disagreed then overturned, r4 read independently (the reader's mask equals
the confirmed one: reader Dice 1) and agreed. r1-r3 in March 2026, r4 in April.
"""
from datetime import date, timedelta

import pytest

from annotations import masks
from review import metrics
from review.actions import (
    do_adjudicate,
    do_record_verdict,
    do_start_review,
    do_submit_reader_mask,
    do_update_policy,
)
from review.models import QAItem
from tests.backend.review.conftest import at, box_mask, set_times
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def review(users, result, verdict, reason="", reader_mask=None):
    item = QAItem.objects.get(result=result)
    do_start_review(users["reviewer"], item)
    if reader_mask is not None:
        do_submit_reader_mask(users["reviewer"], item, reader_mask)
    return do_record_verdict(users["reviewer"], item, verdict, reason, PASSWORD)


@pytest.fixture
def figures(sites, users, make_version, make_result, decide):
    liver, spleen = make_version("liver-ct"), make_version("spleen-ct")
    r1, r2, r3 = make_result(liver), make_result(liver), make_result(liver)
    r4 = make_result(spleen, by="annotator_member", engine="medsam2")
    decide(r1)
    decide(r2, edit=box_mask(slice(2, 6), slice(2, 8)))
    decide(r3, reject=True)
    do_update_policy(users["site_admin"], sites["home"], {"review_mode": "independent"})
    smaller = box_mask(slice(2, 4), slice(2, 6))
    decide(r4, by="annotator_member", edit=smaller)
    set_times(r1, at("2026-03-02"), at("2026-03-02", 12, 1))
    set_times(r2, at("2026-03-03"), at("2026-03-03", 12, 3))
    set_times(r3, at("2026-03-04"), at("2026-03-04", 12, 9))
    set_times(r4, at("2026-04-01"), at("2026-04-01", 12, 10))
    review(users, r1, "agree")
    disagreed = review(users, r2, "disagree", "the lateral edge leaks into fat")
    do_adjudicate(users["reviewer_member"], disagreed, "overturned", "leak confirmed", PASSWORD)
    review(users, r4, "agree", reader_mask=smaller)
    return {"liver": liver, "spleen": spleen, "results": (r1, r2, r3, r4)}


def scope(sites, **kw):
    return metrics.Scope(site_id=sites["home"].pk, **kw)


def test_overall_figures_match_the_hand_computed_ones(figures, sites):
    m = metrics.overall(scope(sites))
    assert (m.decided, m.accepted, m.edited, m.rejected) == (4, 1, 2, 1)
    assert (m.accept_rate, m.edit_rate, m.reject_rate) == (0.25, 0.5, 0.25)
    assert m.dice_mean == pytest.approx((1 + 0.8 + 2 / 3) / 3, abs=1e-4)
    assert m.dice_median == 0.8
    assert m.dice_min == pytest.approx(2 / 3, abs=1e-4)
    assert m.volume_diff_ml_mean == pytest.approx(16 / 3, abs=1e-3)
    assert m.volume_diff_pct_mean == pytest.approx(100 / 3, abs=0.01)
    assert (m.reviewed, m.agreed, m.disagreed, m.overturned) == (3, 2, 1, 1)
    assert m.agreement_rate == pytest.approx(2 / 3, abs=1e-4)
    assert m.reader_dice_mean == 1.0
    assert m.confirm_seconds_mean == 280.0
    assert m.confirm_seconds_median == 180.0


def test_figures_per_prompt_version(figures, sites):
    liver, spleen = metrics.compute(scope(sites), "prompt_version")
    assert (liver.label, spleen.label) == ("liver-ct v1", "spleen-ct v1")
    assert (liver.decided, liver.accept_rate, liver.edit_rate, liver.reject_rate) == (
        3, 0.3333, 0.3333, 0.3333)
    assert (liver.dice_mean, liver.dice_median, liver.dice_min) == (0.9, 0.9, 0.8)
    assert (liver.volume_diff_ml_mean, liver.volume_diff_pct_mean) == (4.0, 25.0)
    assert (liver.agreement_rate, liver.overturned, liver.reader_dice_mean) == (0.5, 1, None)
    assert liver.confirm_seconds_mean == liver.confirm_seconds_median == 120.0
    assert (spleen.decided, spleen.edit_rate, spleen.dice_mean) == (1, 1.0, 0.6667)
    assert (spleen.volume_diff_ml_mean, spleen.volume_diff_pct_mean) == (8.0, 50.0)
    assert (spleen.agreement_rate, spleen.reader_dice_mean) == (1.0, 1.0)


def test_figures_per_engine_annotator_structure_and_period(figures, sites):
    by_engine = {g.label: g.decided for g in metrics.compute(scope(sites), "engine")}
    assert by_engine == {"litemedsam 1.0": 3, "medsam2 1.0": 1}
    by_annotator = {g.label: (g.decided, g.edit_rate)
                    for g in metrics.compute(scope(sites), "annotator")}
    assert by_annotator == {"Dr. Annotator Owner": (3, 0.3333), "Dr. Annotator Member": (1, 1.0)}
    by_structure = {g.label: g.reject_rate for g in metrics.compute(scope(sites), "structure")}
    assert by_structure == {"liver-ct": 0.3333, "spleen-ct": 0.0}
    months = metrics.compute(scope(sites), "period", "month")
    assert [(g.label, g.decided) for g in months] == [("2026-03", 3), ("2026-04", 1)]
    weeks = metrics.compute(scope(sites), "period", "week")
    assert [g.label for g in weeks] == ["2026-W10", "2026-W14"]


def test_the_period_and_filters_narrow_the_scope(figures, sites, users):
    march = metrics.overall(scope(sites, start=date(2026, 3, 3), end=date(2026, 3, 31)))
    assert (march.decided, march.accepted, march.edited, march.rejected) == (2, 0, 1, 1)
    member = metrics.overall(scope(sites, annotator_id=users["annotator_member"].pk))
    assert member.decided == 1 and member.dice_mean == 0.6667
    assert metrics.overall(scope(sites, engine="medsam2")).decided == 1
    assert metrics.overall(scope(sites, structure_key="liver-ct")).decided == 3
    assert metrics.overall(metrics.Scope(site_id=sites["other"].pk)).decided == 0


def test_mask_change_is_computed_from_the_stored_versions(figures):
    r2 = figures["results"][1]
    r2.refresh_from_db()
    change = metrics.mask_change(r2)
    ai = masks.decode(r2.mask_versions.get(number=1).data, (2, 10, 10))
    final = masks.decode(r2.mask_versions.get(number=2).data, (2, 10, 10))
    assert change.dice == round(masks.dice(ai, final), 6) == 0.8
    assert (change.ai_volume_ml, change.final_volume_ml, change.final_version) == (16, 24, 2)


def test_the_api_gives_the_same_figures(figures, api_as):
    body = api_as("prompt_admin").get(
        "/api/v1/review/metrics", {"group_by": "annotator", "start": "2026-03-01",
                                   "end": "2026-04-30"}).json()
    assert body["overall"]["decided"] == 4
    assert body["overall"]["edit_rate"] == 0.5
    assert [(g["label"], g["decided"]) for g in body["groups"]] == [
        ("Dr. Annotator Member", 1), ("Dr. Annotator Owner", 3)]
    assert api_as("prompt_admin").get("/api/v1/review/metrics",
                                      {"group_by": "colour"}).status_code == 400


@pytest.mark.parametrize("who,code", [("reviewer", 200), ("auditor", 200), ("site_admin", 200),
                                      ("prompt_admin", 200), ("annotator", 403),
                                      ("norole", 403), (None, 403)])
def test_metrics_are_for_qa_roles(api_as, who, code, sites):
    assert api_as(who).get("/api/v1/review/metrics").status_code == code


def test_time_to_confirmation_counts_from_the_result(figures, sites):
    r1 = figures["results"][0]
    set_times(r1, at("2026-03-02"), at("2026-03-02") + timedelta(hours=2))
    liver = metrics.compute(scope(sites), "prompt_version")[0]
    assert liver.confirm_seconds_mean == (7200 + 180) / 2
