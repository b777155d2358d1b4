"""The live preview (issue 23), web side: while an annotator drags a box, the viewer asks for
the mask of the box as it is now; the web tier checks the request as it checks a job, then
forwards it straight to a live worker of the protocol's engine over that worker's HTTP endpoint
(``annotations.preview_worker``), bypassing the job table and the broker: a decoder pass on the
slice embedding the worker holds, not a queued job.

The preview is never the record. It creates no row, changes nothing and cannot be confirmed;
on release the viewer submits the job as before, whose draft (pinned engine, provenance,
agreement check) replaces the preview. It discloses nothing the annotator cannot already see
(the slice's pixels, from which the engine derives it), so unlike a stored mask it is not
entered in the read log; the worker's own reading of the volume is, as for every job.

The worker trusts only requests signed by the web tier (HMAC of the body and a timestamp under
the installation's secret key, ``sign``/``verify``): its port answers nothing else.
"""
import json
import logging
import time
import urllib.error
import urllib.request
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac

from .actions import check_can_segment
from .geometry import GeometryError, validate_box
from .prefetch import job_normalisation
from .series_shape import SeriesNotUsable, series_shape

logger = logging.getLogger(__name__)

SALT = "annotations.preview"
MAX_AGE_SECONDS = 30
SIGNATURE_HEADER = "X-Medsam-Signature"
TIMESTAMP_HEADER = "X-Medsam-Timestamp"


class PreviewUnavailable(Exception):
    """No worker of the engine can answer a preview now (503: the job path still works)."""


class PreviewTimedOut(PreviewUnavailable):
    """A worker took the preview but did not answer in time (504), as when it first loads a
    large series: the next preview on the slice is quick."""


def sign(body: bytes, timestamp: int) -> str:
    return salted_hmac(SALT, f"{timestamp}.".encode() + body, algorithm="sha256").hexdigest()


def verify(body: bytes, timestamp: str, signature: str) -> bool:
    """Whether the web tier signed ``body`` within the last ``MAX_AGE_SECONDS``."""
    try:
        stamp = int(timestamp)
    except (TypeError, ValueError):
        return False
    if abs(time.time() - stamp) > MAX_AGE_SECONDS:
        return False
    return constant_time_compare(sign(body, stamp), signature or "")


def check_preview(actor, series, prompt_version, slice_index, box) -> dict:
    """What a worker needs for the preview, after the checks a job of the same prompt gets;
    ValidationError (400) naming the field, or PermissionDenied (403)."""
    from prompts.models import VersionState

    check_can_segment(actor, series)
    if prompt_version.entry.site_id != actor.site_id:
        raise PermissionDenied("This prompt version belongs to another site.")
    if prompt_version.state != VersionState.APPROVED:
        raise ValidationError({"prompt_version": "Only approved prompt versions are used."})
    content = prompt_version.content
    if content.get("interaction", {}).get("tool") != "box":
        raise ValidationError({"prompt_version": "This protocol is prompted with clicks, not "
                               "a box; its masks are not previewed."})
    if prompt_version.entry.modality.upper() != (series.modality or "").upper():
        raise ValidationError({"prompt_version": f"This protocol is for "
                               f"{prompt_version.entry.modality} images; the series is "
                               f"{series.modality or 'of unknown modality'}."})
    try:
        count, rows, cols = series_shape(series)
    except SeriesNotUsable as problem:
        raise ValidationError({"series": str(problem)}) from None
    if isinstance(slice_index, bool) or not isinstance(slice_index, int) or not (
            0 <= slice_index < count):
        raise ValidationError({"slice": f"Name a slice from 0 to {count - 1}."})
    try:
        box = validate_box(box, "box", rows, cols)
    except GeometryError as wrong:
        raise ValidationError({"box": wrong.message}) from None
    modality, window = job_normalisation(series, content)
    # Everything the worker needs: on a slice it has seen it reads no database row.
    return {
        "series": series.pk,
        "content_version": series.content_version,
        "engine": content["engine"]["name"],
        "modality": modality,
        "window": list(window) if window else None,
        "fill_holes": bool(content.get("postprocessing", {}).get("fill_holes")),
        "slice": slice_index,
        "box": list(box),
    }


def preview_workers(engine: str) -> list[str]:
    """HTTP endpoints of live workers that run ``engine``, most recently seen first."""
    from core.models import WorkerHeartbeat

    fresh_after = timezone.now() - timedelta(seconds=settings.CELERY_WORKER_STALE_SECONDS)
    rows = (WorkerHeartbeat.objects.filter(last_seen__gte=fresh_after, stopped_at__isnull=True)
            .exclude(http_url="").order_by("-last_seen").values_list("engines", "http_url"))
    return [url for engines, url in rows if engine in (engines or [])]


def request_preview(request_body: dict) -> dict:
    """The worker's answer to a checked preview request: the mask (``model.preview``
    encoding), its predicted IoU and timings. PreviewUnavailable when no worker answers."""
    body = json.dumps(request_body, sort_keys=True).encode()
    stamp = int(time.time())
    headers = {"Content-Type": "application/json", TIMESTAMP_HEADER: str(stamp),
               SIGNATURE_HEADER: sign(body, stamp)}
    workers = preview_workers(request_body["engine"])
    if not workers:
        raise PreviewUnavailable(f"No worker running {request_body['engine']} is reachable "
                                 "for previews; press Segment for the draft.")
    timed_out = False
    for url in workers[:2]:  # a worker that just went away: try the next one once
        started = time.perf_counter()
        try:
            outgoing = urllib.request.Request(f"{url}/preview", data=body, headers=headers,
                                              method="POST")
            timeout = settings.PREVIEW_TIMEOUT_SECONDS
            with urllib.request.urlopen(outgoing, timeout=timeout) as reply:
                answer = json.loads(reply.read())
        except urllib.error.HTTPError as refused:
            detail = _detail(refused)
            if refused.code == 409:  # the series changed under the viewer
                raise ValidationError({"series": detail}) from None
            if refused.code == 400:
                raise ValidationError({"box": detail}) from None
            logger.warning("preview worker %s answered %s: %s", url, refused.code, detail)
            continue
        except TimeoutError:
            logger.warning("preview worker %s did not answer within %s s", url, timeout)
            timed_out = True
            break  # it is working on it; another worker would start from nothing
        except (OSError, ValueError) as problem:
            timed_out = timed_out or "timed out" in str(problem)
            logger.warning("preview worker %s unreachable: %s", url, problem)
            continue
        answer["round_trip_ms"] = round((time.perf_counter() - started) * 1000, 1)
        return answer
    if timed_out:
        raise PreviewTimedOut("The worker is still reading this series or embedding the slice; "
                              "the preview follows on the next move.")
    raise PreviewUnavailable("No worker running the engine answered the preview; press "
                             "Segment for the draft.")


def _detail(error: urllib.error.HTTPError) -> str:
    try:
        return str(json.loads(error.read()).get("detail", error.reason))
    except (ValueError, OSError):
        return str(error.reason)
