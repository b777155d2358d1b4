"""The live preview, worker side: ``POST /preview`` on the worker's HTTP endpoint
(``ops.worker_http``), signed by the web tier (``annotations.preview``).

The engine is the one jobs use in this process, so its slice embeddings are shared with jobs
and prefetches (``model.engines.cache``, by slice content). Slices are normalised exactly as a
job normalises them (the web tier names the modality and window,
``annotations.prefetch.job_normalisation``); the normalised slices and the last
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
    from model.preprocess import unit_slices
    from model.preview import encode_crop, preview

    from .tasks import load_engine

    started = time.perf_counter()
    series_id, content_version = int(request["series"]), int(request["content_version"])
    slice_index = int(request["slice"])
    window = tuple(float(v) for v in request["window"]) if request["window"] else None
    modality = str(request["modality"])
    engine = load_engine(str(request["engine"]))
    slice_key = json.dumps([series_id, content_version, modality, window, slice_index])
    unit = _slices.get(slice_key)
    if unit is None:
        volume = _volume(series_id, content_version)
        if not 0 <= slice_index < volume.voxels.shape[0]:
            raise Refused(409, "The series changed since the viewer opened it; reload the page.")
        unit = unit_slices(volume.voxels, [slice_index], modality, window)[slice_index]
        _slices.put(slice_key, unit)
    loaded = time.perf_counter()
    cached = content_key(unit) in engine.cache
    prediction = preview(engine, unit, request["box"], bool(request.get("fill_holes")))
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


def _volume(series_id: int, content_version: int):
    """The series' volume, from this worker's memory when it has it (its read is recorded in
    the read log when it is loaded, as for a job)."""
    from audit.context import acting_from
    from imaging.models import Series

    from .tasks import load_volume

    key = f"{series_id}:{content_version}"
    volume = _volumes.get(key)
    if volume is None:
        series = Series.objects.filter(pk=series_id).first()
        if series is None or series.content_version != content_version:
            raise Refused(409, "The series changed since the viewer opened it; reload the page.")
        with acting_from(None, "worker"):
            volume = load_volume(series)
        _volumes.put(key, volume)
    return volume
