"""Running a claimed job on a worker: load the series, run the engine with progress and
cancellation, check the result against the entry's plausibility ranges and prompt-agreement
threshold, and store it with its provenance."""
import dataclasses
import logging
import time

import numpy as np
from django.db import close_old_connections, transaction

from audit.trail import record_event
from model.engines.base import SegmentationCancelled
from model.protocol import segment_options, window_tuple

from . import agreement as agreement_check
from . import masks
from .flags import plausibility_flags, prompt_slice_flag
from .models import Job, JobStatus, MaskVersion, Result, ResultState
from .models.results import UNCONFIRMED
from .provenance import code_version
from .series_shape import series_digest

logger = logging.getLogger(__name__)

PROGRESS_EVERY_SECONDS = 0.5


class PermanentJobError(Exception):
    """Retrying cannot help (the series or the engine cannot do this job); the message says why."""


class Throttled:
    """Calls ``action`` at most every ``seconds``; used for progress writes and cancel checks."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.last = 0.0

    def due(self) -> bool:
        now = time.monotonic()
        if now - self.last >= self.seconds:
            self.last = now
            return True
        return False


class Inputs:
    """What a claimed job runs on: the prompt version's content, the series' volume as it was
    loaded (and what it was made of), the engine (its weights checked against the pin), and
    the progress and cancel callbacks bound to this attempt."""

    def __init__(self, job: Job, engine_loader, volume_loader) -> None:
        started = time.monotonic()
        self.started, self.stages = started, {}
        self.content = content = job.prompt_version.content
        # What the volume is made of, read before it is loaded: images added meanwhile make
        # the result stale (annotations.staleness), never a result silently attributed to them.
        job.series.refresh_from_db(fields=["content_version"])
        self.made_on = (series_digest(job.series), job.series.content_version)
        self.volume = volume_loader(job.series)
        spacing = self.volume.spacing
        self.spacing_zyx = (spacing[2], spacing[1], spacing[0])
        self.engine = engine = engine_loader(job.engine)
        self.stages["load"] = time.monotonic() - started
        pin = content["engine"].get("weights_sha256")
        if pin and pin != engine.weights_sha256:
            raise PermanentJobError(
                f"The engine's weights ({engine.weights_sha256[:12]}) do not match the prompt "
                f"version's pin ({pin[:12]}); a prompt administrator must re-approve the entry."
            )
        self.options = segment_options(content, self.spacing_zyx[0])
        self.window = window_tuple(content)
        self.modality = job.series.modality or content.get("modality", "CT")
        progress_throttle, cancel_throttle = Throttled(PROGRESS_EVERY_SECONDS), Throttled(1.0)

        def progress(done: int, total: int) -> None:
            if progress_throttle.due() or done == total:
                Job.objects.filter(pk=job.pk, attempt_token=job.attempt_token).update(
                    progress_done=done, progress_total=total
                )

        def cancelled() -> bool:
            if not cancel_throttle.due():
                return False
            return Job.objects.filter(pk=job.pk, cancel_requested=True).exists()

        self.progress, self.cancelled = progress, cancelled

    def engine_provenance(self, job: Job) -> dict:
        engine = self.engine
        return {
            "engine": engine.name,
            "engine_version": engine.version,
            "weights_sha256": engine.weights_sha256,
            "device": str(engine.device),
            "runtime": engine.runtime,
            "prompt_version": {
                "id": job.prompt_version_id,
                "key": job.structure_key,
                "number": job.prompt_version.number,
            },
            "code_version": code_version(),
            "worker": job.worker,
            "attempt": job.attempts,
        }


def job_extent(job: Job) -> tuple[int, int] | None:
    """The first and last slice the user marked with the job (``extent: required``)."""
    extent = job.geometry.get("extent")
    return None if not extent else (int(extent["first"]), int(extent["last"]))


def run(job: Job, engine_loader, volume_loader) -> Result | None:
    """Run a claimed job; return its result, or None when it was cancelled or taken over."""
    inputs = Inputs(job, engine_loader, volume_loader)
    started, stages, content = inputs.started, inputs.stages, inputs.content
    volume, spacing_zyx, engine, options = (inputs.volume, inputs.spacing_zyx, inputs.engine,
                                            inputs.options)
    made_on = inputs.made_on
    prompts = agreement_check.box_prompts(job.geometry)
    if not prompts:
        raise PermanentJobError("This engine segments from boxes; the job has none.")
    extent = job_extent(job)
    if extent is not None:  # the marked first and last slice bound the propagation
        options = dataclasses.replace(options, extent=extent)
    progress, cancelled = inputs.progress, inputs.cancelled

    try:
        outcome = engine.segment_volume(
            volume.voxels,
            spacing_zyx,
            prompts=prompts,
            window=inputs.window,
            modality=inputs.modality,
            options=options,
            progress=progress,
            cancelled=cancelled,
        )
    except SegmentationCancelled:
        return None
    stages["engine"] = time.monotonic() - started - stages["load"]
    mask = np.asarray(outcome.mask, dtype=np.uint8)
    stats = masks.stats(mask, spacing_zyx)
    flags = plausibility_flags(content, stats, mask, spacing_zyx)
    flags += prompt_slice_flag(content, mask, prompts, spacing_zyx)
    provenance = {
        **inputs.engine_provenance(job),
        "parameters": {
            "window": inputs.window,
            "options": vars(options),
            "prompts": job.geometry["prompts"],
            "extent": job.geometry.get("extent"),
        },
        "stop_reasons": outcome.stop_reasons,
        "timings": {k: round(v, 3) for k, v in outcome.timings.items()},
        "stages": {k: round(v, 3) for k, v in stages.items()},
        "duration_seconds": round(time.monotonic() - started, 3),
    }
    close_old_connections()
    # The annotator gets the mask first; the agreement check follows on this worker's checker
    # thread, with the volume and the key slice's embedding at hand (annotations.agreement).
    pending = agreement_check.wanted(content)
    result = save_result(job, mask, stats, outcome.per_slice_iou, None, flags, provenance,
                         made_on=made_on, agreement_pending=pending)
    if result is not None and pending:
        agreement_check.check_soon(result.pk, engine, volume.voxels, content, prompts, mask,
                                   spacing_zyx)
    return result


def save_result(job, mask, stats, slice_scores, agreement, flags, provenance, *,
                made_on: tuple[str, int] | None = None, agreement_pending: bool = False
                ) -> Result | None:
    """Store the result, its AI-original mask version and the job's success in one
    transaction, only if this attempt still owns the job: a result is stored exactly once.
    ``agreement_pending``: the agreement check runs after (``annotations.agreement``).

    ``made_on``: (series digest, content version) of the series when its volume was loaded;
    by default the series as the job was submitted on (``Job.series_digest``). The result is
    owned by the job's requester, and supersedes that requester's unconfirmed drafts of the
    same series and structure (another annotator's drafts stay theirs)."""
    with transaction.atomic():
        current = Job.objects.select_for_update().get(pk=job.pk)
        if current.attempt_token != job.attempt_token or current.status != JobStatus.RUNNING:
            return None
        if current.cancel_requested:
            from .actions import _finish

            _finish(current, JobStatus.CANCELLED, worker=job.worker, reason="cancelled")
            return None
        superseded = list(
            Result.objects.select_for_update().filter(
                series=current.series, structure_key=current.structure_key, state__in=UNCONFIRMED,
                owner_id=current.created_by_id,
            )
        )
        for old in superseded:
            old.state = ResultState.SUPERSEDED
            old.save(update_fields=["state"])
            record_event(
                action="result.supersede",
                target=old,
                old={"state": "unconfirmed"},
                new={"state": ResultState.SUPERSEDED, "by_job": str(current.public_id)},
                reason="a newer job on the same series and structure finished",
            )
        result = Result.objects.create(
            job=current,
            series=current.series,
            prompt_version=current.prompt_version,
            structure_key=current.structure_key,
            provenance=provenance,
            slice_scores={str(k): round(float(v), 4) for k, v in slice_scores.items()},
            agreement=None if agreement is None else round(agreement.mean, 4),
            flags=flags,
            agreement_pending=agreement_pending,
            owner_id=current.created_by_id,
            **({"series_digest": made_on[0], "series_content_version": made_on[1]}
               if made_on else {}),
        )
        version = MaskVersion.objects.create(
            result=result,
            number=1,
            data=masks.encode(mask),
            sha256=masks.content_sha256(mask),
            shape=list(mask.shape),
            voxel_count=stats.voxel_count,
            volume_ml=round(stats.volume_ml, 3),
            note="AI original",
        )
        from .actions import _finish

        current.progress_done = current.progress_total
        _finish(current, JobStatus.SUCCEEDED, worker=job.worker, reason="result stored")
        record_event(
            action="result.create",
            target=result,
            new={
                "job": str(current.public_id),
                "mask_sha256": version.sha256,
                "volume_ml": version.volume_ml,
                "flags": [f["code"] for f in flags],
                "agreement": result.agreement,
                "agreement_pending": agreement_pending,
            },
            versions={
                "engine": provenance["engine"],
                "weights_sha256": provenance["weights_sha256"],
                "prompt_version": current.prompt_version_id,
                "code_version": provenance["code_version"],
            },
        )
    return result
