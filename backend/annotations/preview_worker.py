"""The live preview, worker side: ``POST /preview`` on the worker's HTTP endpoint
(``ops.worker_http``), signed by the web tier (``annotations.preview``).

The engine is the one jobs use in this process, so its slice embeddings are shared with jobs
and prefetches (``model.engines.cache``, by slice content). Slices are normalised exactly as a
job normalises them (``annotations.prefetch.job_slices``); the normalised slices and the last
volumes are kept here too, so a preview on a slice already seen costs the decoder pass alone.
Previews run one at a time in a worker (a drag sends one request at a time; a second viewer
waits a decoder pass, not the queue).
"""
import json
import logging
import threading
import time

from django.db import close_old_connections

from model.engines.cache import LRUCache, content_key

from . import preview as web_side

logger = logging.getLogger(__name__)

_lock = threading.Lock()
_volumes: LRUCache = LRUCache(2)
_slices: LRUCache = LRUCache(64)


class Refused(Exception):
    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


def handle(body: bytes, timestamp: str, signature: str) -> tuple[int, dict]:
    """(HTTP status, JSON answer) for one preview request."""
    if not web_side.verify(body, timestamp, signature):
        return 403, {"detail": "The request is not signed by this installation's web tier."}
    try:
        request = json.loads(body)
        with _lock:
            return 200, _preview(request)
    except Refused as refused:
        return refused.status, {"detail": refused.detail}
    except (KeyError, TypeError, ValueError) as problem:
        return 400, {"detail": f"The preview request is malformed: {problem}"}
    except Exception:
        logger.exception("preview failed")
        return 500, {"detail": "The preview failed on the worker."}
    finally:
        close_old_connections()


def _preview(request: dict) -> dict:
    from audit.context import acting_from
    from imaging.models import Series
    from model.preview import encode_crop, preview
    from prompts.models import PromptVersion

    from .prefetch import job_slices
    from .tasks import load_engine, load_volume

    started = time.perf_counter()
    series = Series.objects.filter(pk=int(request["series"])).first()
    if series is None or series.content_version != int(request["content_version"]):
        raise Refused(409, "The series changed since the viewer opened it; reload the page.")
    version = PromptVersion.objects.filter(pk=int(request["prompt_version"])).first()
    if version is None or version.content["engine"]["name"] != request["engine"]:
        raise Refused(409, "The prompt version changed; choose the structure again.")
    content = version.content
    slice_index = int(request["slice"])
    engine = load_engine(request["engine"])
    slice_key = f"{series.pk}:{series.content_version}:{version.pk}:{slice_index}"
    unit = _slices.get(slice_key)
    if unit is None:
        volume_key = f"{series.pk}:{series.content_version}"
        with acting_from(None, "worker"):
            volume = _volumes.get_or_compute(volume_key, lambda: load_volume(series))
        unit = job_slices(series, content, [slice_index], volume)[slice_index]
        _slices.put(slice_key, unit)
    loaded = time.perf_counter()
    cached = content_key(unit) in engine.cache
    prediction = preview(engine, unit, request["box"])
    finished = time.perf_counter()
    return {
        "mask": encode_crop(prediction.mask),
        "iou": round(float(prediction.iou), 4),
        "engine": request["engine"],
        "slice": slice_index,
        "box": request["box"],
        "embedding_cached": cached,
        "worker_ms": {"load": round((loaded - started) * 1000, 1),
                      "engine": round((finished - loaded) * 1000, 1)},
    }
