"""A confirmed result overruled at QA adjudication (``review.actions.do_adjudicate``).

confirmed -> overturned, in the adjudication's own transaction: the result stops counting
(not final, never exported, no longer the series' confirmed result for the structure, so a new
one can be confirmed without superseding), and goes back to its owner's worklist with the
adjudicator's reason. The signed mask and its signature stay as they were: the trail shows
what was signed and what the ruling was. A result no longer confirmed by then (superseded by a
newer confirmed result) keeps its state; the ruling is recorded on the QA item only.
"""
from django.utils import timezone

from audit.trail import record_event

from .models import Result, ResultState, ResultTransition


def overturn(result: Result, *, actor, reason: str, qa_item) -> bool:
    """Mark ``result`` overturned; call inside the adjudication's transaction. Returns whether
    the state changed."""
    locked = Result.objects.select_for_update().get(pk=result.pk)
    if locked.state != ResultState.CONFIRMED:
        return False
    ResultTransition.objects.create(
        result=locked, from_state=locked.state, to_state=ResultState.OVERTURNED,
        at=timezone.now(), actor=actor,
        mask_version=locked.final_version.number if locked.final_version else None,
        reason=f"overturned at QA adjudication (case {qa_item.pk}): {reason}",
    )
    Result.objects.filter(pk=locked.pk).update(state=ResultState.OVERTURNED)
    record_event(
        action="result.overturn", actor=actor, target=locked,
        old={"state": ResultState.CONFIRMED}, new={"state": ResultState.OVERTURNED},
        reason=reason, versions={"qa_item": qa_item.pk},
    )
    return True


def returned_to(user):
    """Results of ``user``'s that were overturned and not yet done again: an overturned result
    whose series and structure has no newer result by anyone."""
    overturned = Result.objects.filter(owner=user, state=ResultState.OVERTURNED).select_related(
        "series", "prompt_version__entry")
    pending = []
    for result in overturned:
        newer = Result.objects.filter(series_id=result.series_id,
                                      structure_key=result.structure_key,
                                      created_at__gt=result.created_at).exists()
        if not newer:
            pending.append(result)
    return pending


def overturn_reason(result: Result) -> str:
    """The adjudicator's reason, as the result's transition to overturned records it."""
    last = result.transitions.filter(to_state=ResultState.OVERTURNED).order_by("-at").first()
    return last.reason if last else ""
