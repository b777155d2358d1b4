"""Series volumes for model input, cached as .npy beside the media files.

The cache file name carries the series' pk and a digest of its instances' file hashes, so
adding instances makes the old cache unreachable, and a series that reuses the pk of a deleted
one (SQLite reuses row ids; test databases are flushed between tests) never reads the other
series' voxels; :func:`drop_cached_volumes` removes stale files.
"""

import hashlib
import json
import os
from pathlib import Path

import numpy as np
from django.conf import settings

from model.imaging import Volume, assemble_volume

from . import access
from .models import Series

CACHE_FOLDER = "volume-cache"


def _cache_dir() -> Path:
    return Path(settings.MEDIA_ROOT) / CACHE_FOLDER


def _content_digest(series: Series) -> str:
    hashes = series.instances.order_by("sop_instance_uid").values_list("sha256", flat=True)
    return hashlib.sha256("\n".join(hashes).encode()).hexdigest()[:16]


def _cache_paths(series: Series) -> tuple[Path, Path]:
    stem = _cache_dir() / f"series-{series.pk}-{_content_digest(series)}"
    return stem.with_suffix(".npy"), stem.with_suffix(".json")


def load_series_volume(series: Series, *, actor=None) -> Volume:
    """The series as a :class:`Volume` (HU for CT), from the cache when it is current.

    Raises :class:`model.imaging.ImagingError` when the series does not form one volume.
    The read is recorded in the audit trail.
    """
    access.record_read(series, "volume", actor=actor)
    voxels_path, geometry_path = _cache_paths(series)
    if voxels_path.exists() and geometry_path.exists():
        geometry = json.loads(geometry_path.read_text())
        return Volume(np.load(voxels_path), np.array(geometry["affine"]), geometry["modality"])
    instances = list(series.instances.all())
    volume = assemble_volume(access.read_series_files(instances, headers_only=False))
    _write_cache(voxels_path, geometry_path, volume)
    return volume


def _write_cache(voxels_path: Path, geometry_path: Path, volume: Volume) -> None:
    voxels_path.parent.mkdir(parents=True, exist_ok=True)
    geometry = {"affine": volume.affine.tolist(), "modality": volume.modality}
    _write_atomically(voxels_path, lambda stream: np.save(stream, volume.voxels))
    _write_atomically(geometry_path, lambda stream: stream.write(json.dumps(geometry).encode()))


def _write_atomically(path: Path, write) -> None:
    """Readers see the old file or the whole new one, never a partial one."""
    partial = path.with_name(f"{path.name}.{os.getpid()}.partial")
    with open(partial, "wb") as stream:
        write(stream)
    os.replace(partial, path)


def drop_cached_volumes(series: Series) -> None:
    """Remove cache files of older versions of ``series``."""
    folder = _cache_dir()
    if not folder.exists():
        return
    current = {p.name for p in _cache_paths(series)}
    for path in folder.glob(f"series-{series.pk}-*"):
        if path.name not in current:
            path.unlink(missing_ok=True)
