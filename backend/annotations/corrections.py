"""Correcting an AI draft in one action (``model.correction``): the draft's owner places a box
(with positive/negative points, if any) on one slice; a worker re-segments only the affected
run of slices with the engine and approved prompt version the draft was made with, and stores
the outcome as a new mask version of the same result, with its own provenance. The rest of
the draft stays. Submitting and storing are audited actions; the job in between is an
ordinary annotation job (queue, progress, cancel, retry, recovery)."""
import hashlib
import json
import time

import numpy as np
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from audit.trail import record_event
from model.correction import check_correction_prompt, correct_with_engine
from model.engines.base import SegmentationCancelled

from . import masks
from .actions import _finish, _transition, _versions, engine_queue, publish
from .confirmation import Conflict, _check_annotator, _open_result
from .confirmation import _transition as _result_transition
from .execution import Inputs, PermanentJobError
from .models import Job, JobStatus, MaskVersion, Result, ResultState
from .models.jobs import LIVE
from .series_shape import series_digest


def _prompts(slice_index, boxes, points) -> list[dict]:
    """The job's geometry: a prompt per box, the points with the (single) box."""
    prompts = [{"slice": int(slice_index), "box": [round(float(v), 2) for v in box]}
               for box in boxes]
    if points:
        prompts[0]["points"] = [[round(float(x), 2), round(float(y), 2), int(label)]
                                for x, y, label in points]
    return prompts


def _key(result: Result, base_version: int, engine: str, prompts: list[dict]) -> str:
    payload = {"corrects": result.pk, "base_version": base_version, "engine": engine,
               "prompts": prompts}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def do_submit_correction(actor, result: Result, base_version: int, slice_index: int, boxes,
                         points=None) -> tuple[Job, bool]:
    """Queue a correction of `result`'s version `base_version` from a prompt on one slice:
    one box with positive/negative `points`, or a box per part of the structure.
    Only the draft's owner corrects it, only its latest version, only while it is an
    unconfirmed draft of an unchanged series. Returns (job, created); the same correction
    again returns the live job."""
    from prompts.models import VersionState

    _check_annotator(actor, result)
    with transaction.atomic():
        latest = _open_result(result, base_version, actor)
        version = result.prompt_version
        if version.state != VersionState.APPROVED:
            raise Conflict({"prompt_version": [
                f"The protocol version this draft was made with is now "
                f"{version.get_state_display()}; start a new segmentation with the approved one."
            ]})
        try:
            check_correction_prompt(latest.shape, slice_index, boxes, points)
        except ValueError as wrong:
            raise ValidationError({"geometry": [str(wrong)]}) from None
        engine = result.provenance.get("engine") or version.content["engine"]["name"]
        prompts = _prompts(slice_index, boxes, points)
        key = _key(result, base_version, engine, prompts)
        existing = Job.objects.filter(input_key=key, status__in=LIVE).first()
        if existing is not None:
            return existing, False
        try:
            with transaction.atomic():
                job = Job.objects.create(
                    series=result.series, prompt_version=version,
                    structure_key=result.structure_key, engine=engine,
                    queue=engine_queue(engine), geometry={"prompts": prompts}, input_key=key,
                    series_digest=series_digest(result.series), created_by=actor,
                    progress_total=int(latest.shape[0]),
                    max_attempts=settings.JOB_MAX_ATTEMPTS, corrects=result,
                    base_version=base_version,
                )
                _transition(job, JobStatus.QUEUED, actor=actor, reason="correction submitted")
                record_event(
                    action="job.submit", actor=actor, target=job,
                    new={"series": result.series_id, "geometry": job.geometry,
                         "status": job.status, "corrects": result.pk,
                         "base_version": base_version},
                    versions=_versions(job),
                )
                transaction.on_commit(lambda: publish(job.pk))
        except IntegrityError:
            return Job.objects.get(input_key=key, status__in=LIVE), False
    return job, True


def anchors(result: Result) -> list[int]:
    """The slices someone prompted on this result: its key slices and earlier corrections'."""
    slices = {int(p["slice"]) for p in result.provenance.get("parameters", {}).get("prompts", [])}
    for provenance in result.mask_versions.exclude(provenance=None).values_list(
            "provenance", flat=True):
        slices.add(int(provenance["prompts"][0]["slice"]))
    return sorted(slices)


def marked_extent(result: Result, base: MaskVersion) -> tuple[int, int] | None:
    """The first and last slice marked for `result` as of version `base`: the one its job was
    submitted with, moved out by any correction outside it since (``model.correction``)."""
    for version in result.mask_versions.filter(number__lte=base.number).exclude(
            provenance=None).order_by("-number"):
        if version.provenance.get("extent"):
            extent = version.provenance["extent"]
            return int(extent["first"]), int(extent["last"])
    extent = result.provenance.get("parameters", {}).get("extent")
    return None if not extent else (int(extent["first"]), int(extent["last"]))


class DraftChanged(PermanentJobError):
    """The draft moved on (edited, confirmed, rejected) while its correction ran."""


def store_correction(job: Job, mask: np.ndarray, stats, provenance: dict
                     ) -> MaskVersion | None:
    """Store the corrected mask as the next version of the result and finish the job, in one
    transaction, only if this attempt still owns the job and the draft is still at the job's
    base version; None when the job was taken over or cancelled. Raises DraftChanged when the
    draft changed meanwhile (the correction would overwrite that change)."""
    with transaction.atomic():
        current = Job.objects.select_for_update().get(pk=job.pk)
        if current.attempt_token != job.attempt_token or current.status != JobStatus.RUNNING:
            return None
        if current.cancel_requested:
            _finish(current, JobStatus.CANCELLED, worker=job.worker, reason="cancelled")
            return None
        result = Result.objects.select_for_update().get(pk=current.corrects_id)
        latest = result.latest_mask()
        if result.state not in (ResultState.AI_DRAFT, ResultState.EDITED) or (
                latest.number != current.base_version):
            raise DraftChanged(
                f"The draft changed while the correction ran (it is now "
                f"{result.get_state_display().lower()}, version {latest.number}); correct "
                "the current version again.")
        if masks.content_sha256(mask) == latest.sha256:
            current.progress_done = current.progress_total
            _finish(current, JobStatus.SUCCEEDED, worker=job.worker,
                    reason="the correction left the draft unchanged; no new version")
            return latest
        count = stats.voxel_count
        prompts = current.geometry["prompts"]
        first, last = provenance["slices"]
        note = (f"AI correction from slice {prompts[0]['slice'] + 1}: slices {first + 1} to "
                f"{last + 1} re-segmented")
        version = MaskVersion.objects.create(
            result=result, number=latest.number + 1, data=masks.encode(mask),
            sha256=masks.content_sha256(mask), shape=list(mask.shape), voxel_count=count,
            volume_ml=round(stats.volume_ml, 3),
            created_by=current.created_by, note=note, job=current, provenance=provenance,
        )
        if result.state != ResultState.EDITED:
            _result_transition(result, ResultState.EDITED, current.created_by, version.number,
                               note)
        Result.objects.filter(pk=result.pk).update(state=ResultState.EDITED)
        current.progress_done = current.progress_total
        _finish(current, JobStatus.SUCCEEDED, worker=job.worker, reason="correction stored")
        record_event(
            action="mask.correct", actor=current.created_by, target=version,
            old={"version": latest.number, "sha256": latest.sha256,
                 "voxel_count": latest.voxel_count},
            new={"version": version.number, "sha256": version.sha256, "voxel_count": count,
                 "job": str(current.public_id), "slices": [first, last], "prompts": prompts},
            reason=note,
            versions={"engine": provenance["engine"],
                      "weights_sha256": provenance["weights_sha256"],
                      "prompt_version": current.prompt_version_id,
                      "code_version": provenance["code_version"]},
        )
    return version


def run_correction(job: Job, engine_loader, volume_loader) -> MaskVersion | None:
    """Run a claimed correction job; its new mask version, or None when it was cancelled or
    taken over."""
    inputs = Inputs(job, engine_loader, volume_loader)
    result = job.corrects
    base = result.mask_versions.get(number=job.base_version)
    draft = masks.decode(bytes(base.data), tuple(base.shape))
    if tuple(draft.shape) != tuple(inputs.volume.voxels.shape):
        raise PermanentJobError(
            f"The draft's mask has shape {list(draft.shape)} but the series now assembles into "
            f"{list(inputs.volume.voxels.shape)}; start a new segmentation.")
    prompts = job.geometry["prompts"]
    points = [tuple(p) for p in prompts[0].get("points", [])]
    extent = marked_extent(result, base)
    try:
        outcome = correct_with_engine(
            inputs.engine, inputs.volume.voxels, inputs.spacing_zyx, draft, prompts[0]["slice"],
            [tuple(p["box"]) for p in prompts], points, window=inputs.window,
            modality=inputs.modality, options=inputs.options, anchors=anchors(result),
            extent=extent, progress=inputs.progress, cancelled=inputs.cancelled)
    except SegmentationCancelled:
        return None
    except ValueError as wrong:  # nothing found on the slice: the user must move the prompt
        raise PermanentJobError(str(wrong)[:1].upper() + str(wrong)[1:] + ".") from None
    mask = np.asarray(outcome.mask, dtype=np.uint8)
    provenance = {
        **inputs.engine_provenance(job),
        "corrects": {"result": result.pk, "version": job.base_version},
        "prompts": prompts,
        "anchors": anchors(result),
        "slices": [outcome.first, outcome.last],
        "extent": None if outcome.extent is None else {"first": outcome.extent[0],
                                                       "last": outcome.extent[1]},
        "stop_reasons": outcome.stop_reasons,
        "slice_scores": {str(k): round(v, 4) for k, v in outcome.per_slice_iou.items()},
        "options": vars(inputs.options),
        "timings": {k: round(v, 3) for k, v in outcome.timings.items()},
        "duration_seconds": round(time.monotonic() - inputs.started, 3),
    }
    return store_correction(job, mask, masks.stats(mask, inputs.spacing_zyx), provenance)
