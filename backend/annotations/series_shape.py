"""A series' voxel grid size, from its instances' headers (no pixel data is read), and the
digest of its content."""
import hashlib

from django.db.models import Max, Min, Sum


class SeriesNotUsable(ValueError):
    pass


def series_shape(series) -> tuple[int, int, int]:
    """(slices, rows, cols) of the volume the series assembles into."""
    if series.problem:
        raise SeriesNotUsable(f"This series cannot be segmented: {series.problem}")
    summary = series.instances.aggregate(
        frames=Sum("number_of_frames"),
        max_rows=Max("rows"),
        min_rows=Min("rows"),
        max_cols=Max("columns"),
        min_cols=Min("columns"),
    )
    if not summary["frames"]:
        raise SeriesNotUsable("This series has no images.")
    if summary["max_rows"] != summary["min_rows"] or summary["max_cols"] != summary["min_cols"]:
        raise SeriesNotUsable("The images of this series differ in size.")
    return int(summary["frames"]), int(summary["max_rows"]), int(summary["max_cols"])


def series_digest(series) -> str:
    """sha256 over the sha256 of each stored instance, in SOP instance UID order: the same
    content identity as the volume cache's key (``imaging.volumes``), in full. Adding, removing
    or replacing an image changes it."""
    hashes = series.instances.order_by("sop_instance_uid").values_list("sha256", flat=True)
    return hashlib.sha256("\n".join(hashes).encode()).hexdigest()
