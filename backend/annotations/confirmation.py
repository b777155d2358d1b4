"""The clinician's side of a result: save an edit as a new mask version, confirm it with an
electronic signature, or reject it with a reason and a signature. Nothing counts as final,
and nothing is exported, before a confirmation (DESIGN.md section 9).

Only the draft's owner (``Result.owner``: the job's requester, or whom an audited
reassignment named) edits, confirms or rejects it. A stale result (the series changed under
it, ``annotations.staleness``) cannot be edited or confirmed. One result per series and
structure is confirmed: confirming another is refused unless it explicitly supersedes the
confirmed one (``supersedes``: its id, with a reason)."""
import numpy as np
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.roles import Role
from audit.models import Meaning
from audit.signatures import do_sign
from audit.trail import record_event

from . import masks
from .models import MaskVersion, Result, ResultState, ResultTransition
from .models.results import UNCONFIRMED
from .signals import result_decided


class Conflict(ValidationError):
    """The request is well formed but conflicts with the current state (HTTP 409)."""


class StaleVersion(Conflict):
    """The user worked on a version that is no longer the latest."""


class StaleSeries(Conflict):
    """The series changed after the result was made on it."""


class AlreadyConfirmed(Conflict):
    """Another result of the same series and structure is confirmed."""


class AgreementPending(Conflict):
    """The result's prompt-agreement check has not been recorded yet."""


def _check_annotator(actor, result: Result) -> None:
    if not actor.has_role(Role.ANNOTATOR):
        raise PermissionDenied("Only annotators edit, confirm or reject results.")
    if result.series.study.patient.site_id != actor.site_id:
        raise PermissionDenied("This result belongs to another site.")


def check_owner(actor, result: Result) -> None:
    """Only the draft's owner edits, confirms or rejects it."""
    if result.owner_id is not None and result.owner_id != actor.pk:
        raise PermissionDenied(
            f"This draft belongs to {result.owner.get_printed_name()}; only its owner may edit, "
            "confirm or reject it. A site admin can reassign it."
        )


def _open_result(result: Result, base_version: int, actor=None, *, allow_stale: bool = False
                 ) -> MaskVersion:
    """Lock the result; refuse when it is decided, not the actor's, stale (unless
    ``allow_stale``), or the user's version is not the latest."""
    result = (Result.objects.select_for_update(of=("self",)).select_related("owner", "job")
              .get(pk=result.pk))
    if result.state not in UNCONFIRMED:
        raise ValidationError(
            {"state": f"This result is {result.get_state_display().lower()}; it cannot change."}
        )
    if actor is not None:
        check_owner(actor, result)
    if not allow_stale:
        from .staleness import stale_reason

        if reason := stale_reason(result):
            raise StaleSeries({"series": [reason]})
    latest = result.mask_versions.order_by("-number").first()
    if latest.number != base_version:
        raise StaleVersion(
            {"version": f"Version {base_version} is not the latest (version {latest.number} is); "
             "reload the result before continuing."}
        )
    return latest


def _transition(result: Result, to: str, actor, version: int, reason: str = "") -> None:
    ResultTransition.objects.create(
        result=result, from_state=result.state, to_state=to, at=timezone.now(), actor=actor,
        mask_version=version, reason=reason,
    )


def _versions(result: Result) -> dict:
    provenance = result.provenance
    return {
        "engine": provenance.get("engine"),
        "weights_sha256": provenance.get("weights_sha256"),
        "prompt_version": result.prompt_version_id,
        "code_version": provenance.get("code_version"),
    }


def decode_upload(data: bytes, shape: list[int]) -> np.ndarray:
    try:
        mask = masks.decode(data, tuple(shape))
    except Exception:
        raise ValidationError(
            {"data": "The mask is not bit-packed, zlib-compressed data of the result's shape."}
        ) from None
    return mask


def do_save_edit(actor, result: Result, base_version: int, mask: np.ndarray, note: str = ""
                 ) -> MaskVersion:
    """Save the clinician's edited mask as a new immutable version of the result."""
    _check_annotator(actor, result)
    with transaction.atomic():
        latest = _open_result(result, base_version, actor)
        if list(mask.shape) != list(latest.shape):
            raise ValidationError(
                {"data": f"The mask has shape {list(mask.shape)}; the series needs "
                 f"{list(latest.shape)}."}
            )
        sha = masks.content_sha256(mask)
        if sha == latest.sha256:
            raise ValidationError({"data": "The mask is unchanged; nothing to save."})
        spacing_ml = latest.volume_ml / latest.voxel_count if latest.voxel_count else None
        count = int(np.count_nonzero(mask))
        version = MaskVersion.objects.create(
            result=result,
            number=latest.number + 1,
            data=masks.encode(mask),
            sha256=sha,
            shape=list(mask.shape),
            voxel_count=count,
            volume_ml=round(count * spacing_ml, 3) if spacing_ml else _volume_ml(result, count),
            created_by=actor,
            note=note,
        )
        if result.state != ResultState.EDITED:
            _transition(result, ResultState.EDITED, actor, version.number, note)
        Result.objects.filter(pk=result.pk).update(state=ResultState.EDITED)
        record_event(
            action="mask.edit",
            actor=actor,
            target=version,
            old={"version": latest.number, "sha256": latest.sha256,
                 "voxel_count": latest.voxel_count},
            new={"version": version.number, "sha256": sha, "voxel_count": count},
            reason=note,
            versions=_versions(result),
        )
    return version


def _volume_ml(result: Result, count: int) -> float:
    """Volume of ``count`` voxels from the series geometry (when the AI mask was empty)."""
    from imaging.volumes import load_series_volume

    spacing = load_series_volume(result.series).spacing
    return round(count * float(np.prod(spacing)) / 1000.0, 3)


def _confirmed_other(result: Result, lock: bool = False) -> Result | None:
    others = Result.objects.filter(
        series_id=result.series_id, structure_key=result.structure_key,
        state=ResultState.CONFIRMED,
    ).exclude(pk=result.pk)
    return (others.select_for_update() if lock else others).first()


def _check_supersedes(result: Result, supersedes: int | None, reason: str,
                      lock: bool = False) -> Result | None:
    """The confirmed result this confirmation replaces (None when there is none); refuse
    when one exists and ``supersedes`` does not name it, or names one that is not there."""
    other = _confirmed_other(result, lock)
    if other is None:
        if supersedes is not None:
            raise ValidationError(
                {"supersedes": f"Result {supersedes} is not a confirmed result of this series "
                 "and structure; there is nothing to supersede."})
        return None
    if supersedes != other.pk:
        raise AlreadyConfirmed(
            {"supersedes": [f"Result {other.pk} of this series and structure is already "
             "confirmed. To replace it, confirm with supersedes set to its id and a reason."]})
    if not (reason or "").strip():
        raise ValidationError({"reason": f"Say why this result supersedes the confirmed "
                               f"result {other.pk}."})
    return other


def _supersede(old: Result, new: Result, actor, reason: str) -> None:
    ResultTransition.objects.create(
        result=old, from_state=old.state, to_state=ResultState.SUPERSEDED, at=timezone.now(),
        actor=actor, mask_version=old.final_version.number if old.final_version else None,
        reason=f"superseded by result {new.pk}: {reason}",
    )
    Result.objects.filter(pk=old.pk).update(state=ResultState.SUPERSEDED, superseded_by=new)
    record_event(
        action="result.supersede",
        actor=actor,
        target=old,
        old={"state": old.state},
        new={"state": ResultState.SUPERSEDED, "superseded_by": new.pk},
        reason=reason,
        versions=_versions(old),
    )


def _check_agreement_known(result: Result) -> None:
    """No confirmation before the prompt-agreement check is recorded (its flag may ask for a
    careful review); rejecting needs no such wait."""
    if Result.objects.filter(pk=result.pk, agreement_pending=True).exists():
        raise AgreementPending({"agreement": [
            "The prompt-agreement check of this result is still running; confirm once its "
            "outcome is shown (normally within seconds)."]})


def _decide(actor, result: Result, version_number: int, password: str, state: str,
            meaning: Meaning, reason: str, supersedes: int | None = None) -> Result:
    _check_annotator(actor, result)
    confirming = state == ResultState.CONFIRMED
    if not confirming and supersedes is not None:
        raise ValidationError({"supersedes": "Only a confirmation supersedes a result."})
    with transaction.atomic():
        # A stale result can still be rejected: that is how it is disposed of.
        latest = _open_result(result, version_number, actor, allow_stale=not confirming)
        if confirming:
            _check_agreement_known(result)
            _check_supersedes(result, supersedes, reason)

    def apply(signature) -> None:
        current = _open_result(result, version_number, actor, allow_stale=not confirming)
        if confirming:
            _check_agreement_known(result)
        if confirming and (old := _check_supersedes(result, supersedes, reason, lock=True)):
            _supersede(old, result, actor, reason)
        _transition(Result.objects.get(pk=result.pk), state, actor, current.number, reason)
        Result.objects.filter(pk=result.pk).update(
            state=state, final_version=current, signature=signature, decided_by=actor,
            decided_at=signature.signed_at,
        )
        record_event(
            action=f"result.{'confirm' if confirming else 'reject'}",
            actor=actor,
            target=result,
            old={"state": result.state},
            new={"state": state, "mask_version": current.number, "mask_sha256": current.sha256,
                 "signature": signature.pk, "edited": current.number > 1,
                 **({"supersedes": supersedes} if supersedes is not None else {})},
            reason=reason,
            versions=_versions(result),
        )
        result_decided.send(sender=Result, result=Result.objects.get(pk=result.pk), state=state,
                            actor=actor)

    try:
        do_sign(actor, password, latest, latest.sha256, meaning, reason=reason, then=apply,
                versions=_versions(result))
    except IntegrityError:
        # Another confirmation of the same series and structure committed in between: the
        # partial unique index refused this one, and nothing was signed.
        other = _confirmed_other(result)
        if other is None:
            raise
        raise AlreadyConfirmed(
            {"supersedes": [f"Result {other.pk} of this series and structure "
             "was confirmed meanwhile; reload, and supersede it explicitly if this one "
             "replaces it."]}) from None
    return Result.objects.get(pk=result.pk)


def do_confirm_result(actor, result: Result, version_number: int, password: str,
                      comment: str = "", supersedes: int | None = None) -> Result:
    """Confirm the latest mask version as accurate, signed with the user's password.
    ``supersedes``: the id of the confirmed result of the same series and structure this one
    replaces (required when there is one; ``comment`` then says why)."""
    return _decide(actor, result, version_number, password, ResultState.CONFIRMED,
                   Meaning.CONFIRMED, comment, supersedes)


def do_reject_result(actor, result: Result, version_number: int, password: str,
                     reason: str) -> Result:
    """Reject the result (the AI output or the edit) with a reason, signed."""
    if not (reason or "").strip():
        raise ValidationError({"reason": "Say why the result is rejected."})
    return _decide(actor, result, version_number, password, ResultState.REJECTED,
                   Meaning.REJECTED, reason.strip())
