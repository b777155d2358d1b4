"""Whether a result still describes its series as the series is now.

A result is made on the series' content at one moment (``Result.series_digest``, recorded by
the worker just before it loads the volume). When images are added to the series afterwards
(or the series changed between the user's prompt and the run), the mask no longer lines up
with the series: it is stale. A stale result cannot be edited or confirmed (409, with this
module's reason); it can still be rejected, and the structure segmented again.
"""
from django.db.models import Sum

from .series_shape import series_digest


def _slices(series) -> int:
    return int(series.instances.aggregate(n=Sum("number_of_frames"))["n"] or 0)


def stale_reason(result, digests: dict | None = None) -> str:
    """Why ``result`` is stale, or "" when it is current. ``digests`` (series pk -> digest)
    caches the current digests across the results of one listing."""
    if not result.series_digest:
        # Made before results recorded their series content: the slice count still tells.
        made_on = result.latest_mask()
        now = _slices(result.series)
        if made_on is not None and made_on.shape[0] != now:
            return (f"The series changed after this result was made: it was made on "
                    f"{made_on.shape[0]} slices; the series now has {now}. Segment the "
                    "structure again on the current series.")
        return ""
    if digests is not None and result.series_id in digests:
        current = digests[result.series_id]
    else:
        current = series_digest(result.series)
        if digests is not None:
            digests[result.series_id] = current
    job_digest = getattr(result.job, "series_digest", "") if result.job_id else ""
    if current != result.series_digest:
        made_on = result.latest_mask()
        before = made_on.shape[0] if made_on is not None else None
        now = _slices(result.series)
        counts = (f" It was made on {before} slices; the series now has {now}."
                  if before is not None and before != now else "")
        return ("The series changed after this result was made (images were added or "
                f"replaced).{counts} Segment the structure again on the current series.")
    if job_digest and job_digest != result.series_digest:
        return ("The series changed between the prompt and the run: the prompt was placed on "
                "other images than the ones segmented. Segment the structure again.")
    return ""
