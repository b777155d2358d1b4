"""The clinician's side of a result: save an edit as a new mask version, confirm it with an
electronic signature, or reject it with a reason and a signature. Nothing counts as final,
and nothing is exported, before a confirmation (DESIGN.md section 9)."""
import numpy as np
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.roles import Role
from audit.models import Meaning
from audit.signatures import do_sign
from audit.trail import record_event

from . import masks
from .models import MaskVersion, Result, ResultState, ResultTransition
from .models.results import UNCONFIRMED
from .signals import result_decided


class StaleVersion(ValidationError):
    """The user worked on a version that is no longer the latest."""


def _check_annotator(actor, result: Result) -> None:
    if not actor.has_role(Role.ANNOTATOR):
        raise PermissionDenied("Only annotators edit, confirm or reject results.")
    if result.series.study.patient.site_id != actor.site_id:
        raise PermissionDenied("This result belongs to another site.")


def _open_result(result: Result, base_version: int) -> MaskVersion:
    """Lock the result; refuse when it is decided or the user's version is not the latest."""
    result = Result.objects.select_for_update().get(pk=result.pk)
    if result.state not in UNCONFIRMED:
        raise ValidationError(
            {"state": f"This result is {result.get_state_display().lower()}; it cannot change."}
        )
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
        latest = _open_result(result, base_version)
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


def _decide(actor, result: Result, version_number: int, password: str, state: str,
            meaning: Meaning, reason: str) -> Result:
    _check_annotator(actor, result)
    with transaction.atomic():
        latest = _open_result(result, version_number)

    def apply(signature) -> None:
        current = _open_result(result, version_number)
        _transition(Result.objects.get(pk=result.pk), state, actor, current.number, reason)
        Result.objects.filter(pk=result.pk).update(
            state=state, final_version=current, signature=signature, decided_by=actor,
            decided_at=signature.signed_at,
        )
        record_event(
            action=f"result.{'confirm' if state == ResultState.CONFIRMED else 'reject'}",
            actor=actor,
            target=result,
            old={"state": result.state},
            new={"state": state, "mask_version": current.number, "mask_sha256": current.sha256,
                 "signature": signature.pk, "edited": current.number > 1},
            reason=reason,
            versions=_versions(result),
        )
        result_decided.send(sender=Result, result=Result.objects.get(pk=result.pk), state=state,
                            actor=actor)

    do_sign(actor, password, latest, latest.sha256, meaning, reason=reason, then=apply,
            versions=_versions(result))
    return Result.objects.get(pk=result.pk)


def do_confirm_result(actor, result: Result, version_number: int, password: str,
                      comment: str = "") -> Result:
    """Confirm the latest mask version as accurate, signed with the user's password."""
    return _decide(actor, result, version_number, password, ResultState.CONFIRMED,
                   Meaning.CONFIRMED, comment)


def do_reject_result(actor, result: Result, version_number: int, password: str,
                     reason: str) -> Result:
    """Reject the result (the AI output or the edit) with a reason, signed."""
    if not (reason or "").strip():
        raise ValidationError({"reason": "Say why the result is rejected."})
    return _decide(actor, result, version_number, password, ResultState.REJECTED,
                   Meaning.REJECTED, reason.strip())
