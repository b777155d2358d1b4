"""Sampling rules on constructed data: the deterministic draw against the prompt entry's rate,
and the results always sampled (flagged, first N of a version, watched annotators)."""
import hashlib

import pytest

from audit.models import AuditEntry
from review.actions import do_update_policy, do_watch_annotator, policy_for
from review.models import QAItem, QAState, QATransition, SamplingDecision
from review.sampling import draw

pytestmark = pytest.mark.django_db


@pytest.fixture
def no_first_n(sites, users):
    return do_update_policy(users["site_admin"], sites["home"],
                            {"first_n_per_version": 0, "sampling_seed": "seed-42"})


def reason_codes(result):
    return [r["code"] for r in SamplingDecision.objects.get(result=result).reasons]


def test_it_draws_from_a_seeded_hash_of_the_result_id():
    expected = int.from_bytes(hashlib.sha256(b"seed-42:17").digest()[:8], "big") / 2**64
    assert draw("seed-42", 17) == expected
    assert 0 <= draw("seed-42", 17) < 1
    assert draw("seed-42", 17) != draw("seed-43", 17)


def test_it_samples_at_the_rate_exactly_where_the_draw_is_below_it(
        no_first_n, make_version, make_result, decide):
    version = make_version(rate=0.3)
    results = [make_result(version) for _ in range(30)]
    for result in results:
        decide(result)
    expected = {r.pk for r in results if draw("seed-42", r.pk) < 0.3}
    sampled = set(QAItem.objects.values_list("result_id", flat=True))
    assert sampled == expected
    assert 0 < len(sampled) < 30  # the seed gives a mix; a rate that did nothing would fail
    decisions = SamplingDecision.objects.filter(result__in=results)
    assert decisions.count() == 30
    for decision in decisions:
        assert decision.rate == 0.3 and decision.seed == "seed-42"
        assert decision.draw == draw("seed-42", decision.result_id)
        assert decision.sampled == (decision.result_id in expected)
        assert [r["code"] for r in decision.reasons] == (
            ["random"] if decision.sampled else [])


def test_rate_zero_samples_nothing_and_rate_one_everything(
        no_first_n, make_version, make_result, decide):
    never, always = make_version("liver-ct", 0.0), make_version("spleen-ct", 1.0)
    for _ in range(5):
        decide(make_result(never))
        decide(make_result(always))
    assert not QAItem.objects.filter(result__prompt_version=never).exists()
    assert QAItem.objects.filter(result__prompt_version=always).count() == 5


def test_a_flagged_result_is_always_sampled_and_says_why(
        no_first_n, make_version, make_result, decide):
    version = make_version(rate=0.0)
    flagged = make_result(version, flags=[{"code": "low_agreement", "message": "0.61"},
                                          {"code": "volume_out_of_range", "message": "9 mL"}])
    plain = make_result(version)
    decide(flagged)
    decide(plain)
    item = QAItem.objects.get()
    assert item.result_id == flagged.pk and item.state == QAState.SAMPLED
    assert item.reasons == [{"code": "flagged", "detail":
                             "the result was flagged: low_agreement, volume_out_of_range"}]
    assert reason_codes(plain) == []


def test_the_first_n_confirmed_results_of_a_version_are_sampled(
        sites, users, make_version, make_result, decide):
    do_update_policy(users["site_admin"], sites["home"], {"first_n_per_version": 3})
    version, other = make_version("liver-ct", 0.0), make_version("spleen-ct", 0.0)
    results = [make_result(version) for _ in range(5)]
    decide(results[0], reject=True)  # a rejection is not a confirmed result
    for result in results[1:]:
        decide(result)
    decide(make_result(other))
    sampled = QAItem.objects.filter(result__prompt_version=version).order_by("result_id")
    assert [i.result_id for i in sampled] == [r.pk for r in results[1:4]]
    assert sampled[2].reasons[0]["detail"] == "confirmed result 3 of the first 3 of liver-ct v1"
    assert not SamplingDecision.objects.filter(result=results[0]).exists()
    assert QAItem.objects.filter(result__prompt_version=other).count() == 1


def test_results_of_a_watched_annotator_are_all_sampled(
        no_first_n, sites, users, make_version, make_result, decide):
    do_watch_annotator(users["site_admin"], sites["home"], users["annotator_member"],
                       "new resident, first month")
    version = make_version(rate=0.0)
    watched = [make_result(version, by="annotator_member") for _ in range(3)]
    others = [make_result(version) for _ in range(3)]
    for result in watched:
        decide(result, by="annotator_member")
    for result in others:
        decide(result)
    assert set(QAItem.objects.values_list("result_id", flat=True)) == {r.pk for r in watched}
    assert reason_codes(watched[0]) == ["watched_annotator"]


def test_sampling_is_recorded_as_a_transition_and_an_audit_entry(
        sites, users, make_version, make_result, decide):
    do_update_policy(users["site_admin"], sites["home"], {"first_n_per_version": 1,
                                                          "review_mode": "independent"})
    result = make_result(make_version(rate=0.0))
    decide(result)
    item = QAItem.objects.get(result=result)
    assert item.mode == "independent"
    row = QATransition.objects.get(item=item)
    assert (row.from_state, row.to_state) == ("", "sampled")
    assert "first 1 of liver-ct v1" in row.reason
    entry = AuditEntry.objects.get(action="qa.sample")
    assert entry.object_id == str(result.pk)
    assert entry.new_values["sampled"] is True
    assert entry.new_values["reasons"] == ["new_version"]
    assert entry.new_values["draw"] == draw(policy_for(sites["home"]).sampling_seed, result.pk)


def test_a_failed_confirmation_leaves_no_sampling_decision(
        make_version, make_result, users):
    from annotations.confirmation import do_confirm_result
    from audit.signatures import SignatureRefused

    result = make_result(make_version(rate=1.0))
    with pytest.raises(SignatureRefused):
        do_confirm_result(users["annotator"], result, 1, "wrong password")
    assert not SamplingDecision.objects.exists()
    assert not QAItem.objects.exists()
