"""The second reading and the adjudication of a sampled result.

sampled -> in_review (a reviewer starts; ``release`` hands it back) -> agreed | disagreed
(signed, meaning "reviewed") ; disagreed -> adjudicated (a third person, signed, meaning
"adjudicated"). Each step checks authority, writes a ``QATransition`` row and an audit entry
in one transaction; a refusal raises before anything is written.
"""
import numpy as np
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.roles import Role
from annotations import masks
from audit.models import Meaning
from audit.signatures import content_sha256, do_sign
from audit.trail import record_event

from ..models import Adjudication, QAItem, QAState, QATransition, Verdict
from ..readers import first_readers, readers

AUDITED_FIELDS = ("reviewer", "verdict", "adjudicator", "adjudication")


def _require_reviewer(actor, item: QAItem) -> None:
    if not (actor is not None and actor.has_role(Role.REVIEWER)):
        raise PermissionDenied("Only QA reviewers review or adjudicate results.")
    if actor.site_id != item.site_id:
        raise PermissionDenied("This QA item belongs to another site.")


def _lock(item: QAItem, *states: str) -> QAItem:
    item = QAItem.objects.select_for_update().select_related("result").get(pk=item.pk)
    if item.state not in states:
        raise ValidationError(
            {"state": f"This QA item is {item.get_state_display()}; that step is not open."})
    return item


def _move(item: QAItem, to_state: str, actor, reason: str = "", **fields) -> None:
    now = timezone.now()
    QATransition.objects.create(item=item, from_state=item.state, to_state=to_state, at=now,
                                actor=actor, reason=reason)
    old_state = item.state
    item.state = to_state
    for name, value in fields.items():
        setattr(item, name, value)
    item.save()
    shown = {k: v for k, v in fields.items() if k in AUDITED_FIELDS}
    record_event(action=f"qa.{to_state}" if to_state != QAState.SAMPLED else "qa.release",
                 actor=actor, target=item, old={"state": old_state},
                 new={"state": to_state, **shown}, reason=reason,
                 versions={"result": item.result_id})


def _assigned(actor, item: QAItem) -> None:
    if item.reviewer_id != actor.pk:
        raise PermissionDenied("Another reviewer is reading this case.")


def do_start_review(actor, item: QAItem) -> QAItem:
    _require_reviewer(actor, item)
    with transaction.atomic():
        item = _lock(item, QAState.SAMPLED)
        if actor.pk in first_readers(item.result):
            raise PermissionDenied("You produced or confirmed this result; another reviewer "
                                   "must read it.")
        _move(item, QAState.IN_REVIEW, actor, reviewer=actor,
              review_started_at=timezone.now())
    return item


def do_release_review(actor, item: QAItem, reason: str) -> QAItem:
    """Hand a started case back to the queue (the reviewer's own mask, if any, is dropped)."""
    _require_reviewer(actor, item)
    if not (reason or "").strip():
        raise ValidationError({"reason": "Say why the case goes back to the queue."})
    with transaction.atomic():
        item = _lock(item, QAState.IN_REVIEW)
        _assigned(actor, item)
        _move(item, QAState.SAMPLED, actor, reason.strip(), reviewer=None,
              review_started_at=None, reader_mask=None, reader_mask_sha256="",
              reader_mask_shape=None, reader_dice=None)
    return item


def confirmed_mask(item: QAItem) -> np.ndarray:
    version = item.result.final_version
    return masks.decode(version.data, tuple(version.shape))


def do_submit_reader_mask(actor, item: QAItem, mask: np.ndarray) -> QAItem:
    """Store the reviewer's independent mask (independent mode), once, and its Dice with the
    confirmed mask; only then is the confirmed mask shown to them."""
    _require_reviewer(actor, item)
    with transaction.atomic():
        item = _lock(item, QAState.IN_REVIEW)
        _assigned(actor, item)
        if not item.independent:
            raise ValidationError({"mode": "This case is read against the confirmed mask; "
                                   "no independent mask is taken."})
        if item.reader_mask_sha256:
            raise ValidationError({"mask": "Your independent mask is already stored."})
        shape = list(item.result.final_version.shape)
        if list(mask.shape) != shape:
            raise ValidationError({"mask": f"The mask has shape {list(mask.shape)}; the series "
                                   f"needs {shape}."})
        sha = masks.content_sha256(mask)
        dice = round(masks.dice(mask, confirmed_mask(item)), 4)
        QAItem.objects.filter(pk=item.pk).update(
            reader_mask=masks.encode(mask), reader_mask_sha256=sha, reader_mask_shape=shape,
            reader_dice=dice)
        record_event(action="qa.reader_mask", actor=actor, target=item,
                     new={"sha256": sha, "voxel_count": int(np.count_nonzero(mask)),
                          "dice_with_confirmed": dice},
                     versions={"result": item.result_id})
    return QAItem.objects.get(pk=item.pk)


def signed_content(item: QAItem, **decision) -> str:
    """What a reviewer or adjudicator signs: the case, the exact masks read and the decision."""
    return content_sha256({
        "qa_item": item.pk,
        "result": item.result_id,
        "confirmed_mask_sha256": item.result.final_version.sha256,
        "reader_mask_sha256": item.reader_mask_sha256,
        **decision,
    })


def do_record_verdict(actor, item: QAItem, verdict: str, reason: str, password: str) -> QAItem:
    _require_reviewer(actor, item)
    if verdict not in Verdict.values:
        raise ValidationError({"verdict": "Answer agree or disagree."})
    reason = (reason or "").strip()
    if verdict == Verdict.DISAGREE and not reason:
        raise ValidationError({"reason": "Say what is wrong with the confirmed mask."})
    with transaction.atomic():
        current = _lock(item, QAState.IN_REVIEW)
        _assigned(actor, current)
        if current.independent and not current.reader_mask_sha256:
            raise ValidationError({"mask": "Store your independent mask before the verdict."})
    to_state = QAState.AGREED if verdict == Verdict.AGREE else QAState.DISAGREED

    def apply(signature) -> None:
        locked = _lock(current, QAState.IN_REVIEW)
        _move(locked, to_state, actor, reason, verdict=verdict, verdict_reason=reason,
              reviewed_at=signature.signed_at, review_signature=signature)

    do_sign(actor, password, current, signed_content(current, verdict=verdict), Meaning.REVIEWED,
            reason=reason, then=apply, versions={"result": current.result_id})
    return QAItem.objects.get(pk=item.pk)


def do_adjudicate(actor, item: QAItem, outcome: str, reason: str, password: str) -> QAItem:
    """A third person, neither the first reader(s) nor the reviewer, rules on a disagreement."""
    _require_reviewer(actor, item)
    if outcome not in Adjudication.values:
        raise ValidationError({"outcome": "Rule upheld or overturned."})
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Give the reason for the ruling."})
    with transaction.atomic():
        current = _lock(item, QAState.DISAGREED)
        if actor.pk in readers(current):
            raise PermissionDenied("You read this case; a third person must adjudicate it.")

    def apply(signature) -> None:
        locked = _lock(current, QAState.DISAGREED)
        _move(locked, QAState.ADJUDICATED, actor, reason, adjudicator=actor,
              adjudication=outcome, adjudication_reason=reason,
              adjudicated_at=signature.signed_at, adjudication_signature=signature)
        if outcome == Adjudication.OVERTURNED:
            from annotations.overturning import overturn

            overturn(locked.result, actor=actor, reason=reason, qa_item=locked)

    do_sign(actor, password, current, signed_content(current, adjudication=outcome),
            Meaning.ADJUDICATED, reason=reason, then=apply,
            versions={"result": current.result_id})
    return QAItem.objects.get(pk=item.pk)
