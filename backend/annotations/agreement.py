"""The prompt-agreement check, off the critical path.

A job stores its result first, marked ``agreement_pending``, so the annotator sees the mask as
soon as the engine is done; the same worker then, on its checker thread (``check_soon``: the
job's task has returned and the worker takes its next job meanwhile), re-runs the key slice
with the boxes moved within the template's tolerance (``flags.agreement_on_key_slice``, a few
decoder passes on the cached embedding) and records the mean Dice, and the ``low_agreement``
flag when it is low, on the result, audited as ``result.agreement``. Confirmation is refused
while the check is pending (``confirmation._decide``), so no result is signed before its flag
is known.

A check lost with its worker (killed between storing the result and recording the check) is run
again by the recovery sweep: ``requeue_pending_checks`` publishes ``annotations.check_agreement``,
which loads the volume and engine anew. Recording is idempotent: the first record wins, a
duplicate message finds nothing pending and does nothing. A check that fails records an
``agreement_not_checked`` flag instead of blocking confirmation for ever.
"""
import logging
import queue
import threading
import time
from datetime import timedelta

from django.conf import settings
from django.db import close_old_connections, transaction
from django.utils import timezone

from audit.trail import record_event

from . import masks
from .flags import agreement_on_key_slice
from .models import Result

logger = logging.getLogger(__name__)


def wanted(content: dict) -> bool:
    """Whether the entry asks for the check (``qa.agreement.samples`` of at least 1)."""
    return int(content.get("qa", {}).get("agreement", {}).get("samples", 0)) >= 1


def box_prompts(geometry: dict) -> list[tuple[int, tuple]]:
    """(slice, box) of every box prompt of a job's geometry."""
    return [(p["slice"], tuple(p["box"])) for p in geometry["prompts"] if "box" in p]


def check(result_id: int, engine, voxels, content: dict, prompts, mask, spacing_zyx
          ) -> Result | None:
    """Run the check for a stored result and record it; None when it was recorded already."""
    started = time.monotonic()
    try:
        agreement = agreement_on_key_slice(engine, voxels, content, prompts, mask, spacing_zyx)
    except Exception as problem:  # a failed check must not leave the result unconfirmable
        logger.exception("agreement check of result %s failed", result_id)
        return record(result_id, None, failure=f"{type(problem).__name__}: {problem}")
    return record(result_id, agreement, seconds=time.monotonic() - started)


_pending_checks: queue.Queue = queue.Queue()
_checker = {"thread": None}
_checker_lock = threading.Lock()


def check_soon(result_id: int, engine, voxels, content: dict, prompts, mask, spacing_zyx
               ) -> None:
    """Run ``check`` on this worker's checker thread, one check at a time in the order stored,
    so that the worker's next job does not wait for this one's check (a queued cached 2D job
    waited 0.39 s for the check of the one before). A check lost with the worker is run again
    by the sweep, as when the worker dies during a synchronous check."""
    with _checker_lock:
        thread = _checker["thread"]
        if thread is None or not thread.is_alive():
            thread = threading.Thread(target=_run_checks, name="agreement-checks", daemon=True)
            _checker["thread"] = thread
            thread.start()
    _pending_checks.put((result_id, engine, voxels, content, prompts, mask, spacing_zyx))


def _run_checks() -> None:
    from audit.context import acting_from

    while True:
        item = _pending_checks.get()
        try:
            with acting_from(None, "worker"):
                check(*item)
        except Exception:  # check() records its own failures; this is the database gone
            logger.exception("agreement check of result %s could not be recorded", item[0])
        finally:
            close_old_connections()
            _pending_checks.task_done()


def record(result_id: int, agreement, *, failure: str = "", seconds: float | None = None
           ) -> Result | None:
    """Store the check's outcome on the result, once, audited."""
    with transaction.atomic():
        result = Result.objects.select_for_update().get(pk=result_id)
        if not result.agreement_pending:
            return None
        added = []
        if failure:
            added.append({
                "code": "agreement_not_checked",
                "message": "The prompt-agreement check could not run "
                f"({failure}); review this result carefully.",
            })
        elif agreement is not None and agreement.flagged:
            added.append({
                "code": "low_agreement",
                "message": "Re-running with the box moved within the protocol's tolerance "
                f"agrees only {agreement.mean:.2f} (Dice) with this result; review it carefully.",
            })
        result.agreement = None if agreement is None else round(agreement.mean, 4)
        result.flags = [*result.flags, *added]
        result.agreement_pending = False
        result.save(update_fields=["agreement", "flags", "agreement_pending"])
        record_event(
            action="result.agreement",
            target=result,
            old={"agreement_pending": True},
            new={"agreement": result.agreement, "flags": [f["code"] for f in added],
                 **({"seconds": round(seconds, 3)} if seconds is not None else {})},
            reason=failure,
            versions={"engine": result.provenance.get("engine"),
                      "prompt_version": result.prompt_version_id},
        )
    return result


def check_stored(result_id: int, engine_loader, volume_loader) -> Result | None:
    """The check of a stored result from scratch (the recovery path): the job's engine and
    boxes, the series' volume and the AI original mask."""
    result = Result.objects.select_related("job", "series", "prompt_version").get(pk=result_id)
    if not result.agreement_pending:
        return None
    volume = volume_loader(result.series)
    spacing = volume.spacing
    original = result.mask_versions.get(number=1)
    mask = masks.decode(original.data, tuple(original.shape))
    return check(result_id, engine_loader(result.job.engine), volume.voxels,
                 result.prompt_version.content, box_prompts(result.job.geometry), mask,
                 (spacing[2], spacing[1], spacing[0]))


def requeue_pending_checks() -> list[int]:
    """Publish the check again for results whose check has been pending for a while: their
    worker died between storing the result and recording the check (normally it takes well
    under a second)."""
    from .tasks import check_agreement

    before = timezone.now() - timedelta(seconds=settings.AGREEMENT_REPUBLISH_AFTER_SECONDS)
    pending = Result.objects.filter(agreement_pending=True, created_at__lt=before)
    ids = []
    for result_id, job_queue in pending.values_list("pk", "job__queue"):
        try:
            check_agreement.apply_async(args=[result_id], queue=job_queue, retry=False)
        except Exception:
            logger.warning("could not publish the agreement check of result %s", result_id)
            continue
        ids.append(result_id)
    return ids
