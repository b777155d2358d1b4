"""Embeddings computed before the user prompts (issue 23): the viewer names the slice the user is
on and its neighbours, for the prompt version picked; a worker of the version's engine embeds
those it has not cached yet, normalised exactly as a job on them will be, so the first prompt
on a slice the prefetch reached costs a decoder pass, not an encoder pass.

Bounded: a request names at most ``MAX_SLICES`` slices; its message expires after
``settings.PREFETCH_EXPIRES_SECONDS`` (a worker busy with jobs drops prefetches that are no
longer where the user is, instead of working through a backlog); the same request again within
that time is not sent twice; the worker skips slices it has cached. Prefetching changes no
record and discloses nothing: the worker's read of the volume is recorded in the read log as
every volume load is, and the embeddings stay in the worker's memory (``model.engines.cache``).
"""
import logging

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from .actions import check_can_segment, engine_queue
from .series_shape import SeriesNotUsable, series_shape

logger = logging.getLogger(__name__)

MAX_SLICES = 5


def do_request_prefetch(actor, series, prompt_version, slices: list[int]) -> dict:
    """Ask a worker to embed ``slices`` of ``series`` for ``prompt_version``'s engine and
    window. Returns what was asked: the slices, the engine and whether a message is sent
    (False when the same request is still fresh); it goes out when the transaction commits."""
    from prompts.models import VersionState

    check_can_segment(actor, series)
    if prompt_version.entry.site_id != actor.site_id:
        raise PermissionDenied("This prompt version belongs to another site.")
    if prompt_version.state != VersionState.APPROVED:
        raise ValidationError({"prompt_version": "Only approved prompt versions are used."})
    try:
        count = series_shape(series)[0]
    except SeriesNotUsable as problem:
        raise ValidationError({"series": str(problem)}) from None
    wanted = sorted(set(slices))
    if not wanted:
        raise ValidationError({"slices": "Name at least one slice."})
    if len(wanted) > MAX_SLICES:
        raise ValidationError({"slices": f"At most {MAX_SLICES} slices per request."})
    outside = [k for k in wanted if not 0 <= k < count]
    if outside:
        raise ValidationError({"slices": f"The series has slices 0 to {count - 1}; "
                               f"{outside} are outside it."})
    engine = prompt_version.content["engine"]["name"]
    queue = engine_queue(engine)
    key = (f"prefetch-{series.pk}-{series.content_version}-{prompt_version.pk}-"
           + "-".join(map(str, wanted)))
    sent = cache.add(key, True, timeout=settings.PREFETCH_EXPIRES_SECONDS)
    if sent:
        # After commit, as every message of this app: a request rolled back sends nothing.
        transaction.on_commit(lambda: _publish(key, series.pk, prompt_version.pk, wanted, queue))
    return {"slices": wanted, "engine": engine, "sent": sent}


def _publish(key: str, series_id: int, version_id: int, slices: list[int], queue: str) -> None:
    from .tasks import prefetch_embeddings

    try:
        prefetch_embeddings.apply_async(args=[series_id, version_id, slices], queue=queue,
                                        expires=settings.PREFETCH_EXPIRES_SECONDS, retry=False)
    except Exception:  # a prefetch is a hint: a broker that cannot take it costs nothing
        logger.warning("could not publish the prefetch of series %s", series_id)
        cache.delete(key)


def embed_slices(series, prompt_version, slices: list[int], engine_loader, volume_loader
                 ) -> int:
    """On the worker: embed the named slices the engine has not cached; returns how many were
    computed."""
    content = prompt_version.content
    engine = engine_loader(content["engine"]["name"])
    embed = getattr(engine, "embed_slice", None)
    if embed is None:  # an engine without a per-slice image embedding has nothing to prefetch
        return 0
    images = job_slices(series, content, slices, volume_loader(series))
    before = engine.cache.misses
    for image in images.values():
        embed(image)
    return engine.cache.misses - before


def job_normalisation(series, content: dict) -> tuple[str, tuple[float, float] | None]:
    """The modality and CT window a job of the protocol ``content`` normalises the series with
    (the prefetch and the live preview embed exactly what the job will)."""
    from model.protocol import window_tuple

    return series.modality or content.get("modality", "CT"), window_tuple(content)


def job_slices(series, content: dict, slices: list[int], volume) -> dict:
    """Slices of ``volume`` normalised as a job of the protocol ``content`` normalises them."""
    from model.preprocess import unit_slices

    modality, window = job_normalisation(series, content)
    return unit_slices(volume.voxels, [k for k in slices if k < volume.voxels.shape[0]],
                       modality, window)
