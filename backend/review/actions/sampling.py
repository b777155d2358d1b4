"""Putting a confirmed result into the QA queue. Runs inside the confirmation's transaction
(``annotations.signals.result_decided``), so the decision commits or rolls back with it."""
import logging

from django.db import transaction
from django.utils import timezone

from annotations.models import Result, ResultState
from audit.trail import record_event

from .. import sampling
from ..models import QAItem, QAState, QATransition, SamplingDecision
from .policy import policy_for

logger = logging.getLogger(__name__)


def do_sample_result(result: Result) -> SamplingDecision:
    """Decide and record whether the confirmed ``result`` is reviewed; one decision per result."""
    site = result.series.study.patient.site
    with transaction.atomic():
        # The policy row lock serialises decisions of one site, so "the first N" stays N.
        policy = policy_for(site, lock=True)
        existing = SamplingDecision.objects.filter(result=result).first()
        if existing is not None:
            return existing
        outcome = sampling.decide(result, policy)
        now = timezone.now()
        decision = SamplingDecision.objects.create(
            result=result, site=site, decided_at=now, seed=outcome.seed, rate=outcome.rate,
            draw=outcome.draw, reasons=outcome.reasons, sampled=outcome.sampled,
        )
        new = {"sampled": outcome.sampled, "rate": outcome.rate, "draw": outcome.draw,
               "seed": outcome.seed, "reasons": [r["code"] for r in outcome.reasons]}
        if outcome.sampled:
            item = QAItem.objects.create(result=result, site=site, mode=policy.review_mode,
                                         reasons=outcome.reasons, created_at=now)
            why = "; ".join(r["detail"] for r in outcome.reasons)
            QATransition.objects.create(item=item, from_state="", to_state=QAState.SAMPLED,
                                        at=now, reason=why)
            new.update(qa_item=item.pk, mode=item.mode)
        record_event(action="qa.sample", target=result, new=new,
                     versions={"prompt_version": result.prompt_version_id})
    return decision


def on_result_decided(sender, result: Result, state: str, actor, **kwargs) -> None:
    """Receiver of ``result_decided``: sample confirmed results; afterwards, re-check the
    prompt version's figures in the background."""
    if state == ResultState.CONFIRMED:
        do_sample_result(result)
    from ..tasks import evaluate_prompt_version

    version_id, result_id = result.prompt_version_id, result.pk

    def evaluate_later() -> None:
        # The decision is committed; a broker that cannot take the re-check must not turn
        # the signed confirmation into an error page.
        try:
            evaluate_prompt_version.delay(version_id, result_id)
        except Exception:
            logger.warning("could not queue the check of prompt version %s after result %s",
                           version_id, result_id)

    transaction.on_commit(evaluate_later)
