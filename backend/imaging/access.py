"""The one place patient data is read: image files, headers, volumes and search results.

Every function here records the read before returning data (``audit.reads``): in the read
log always, and in the chained trail (``imaging.read``) except for the per-image reads of a
series a user already opened in the current window, so the audit shows who saw which
patient's images without every frame taking the chain's lock. Nothing here logs patient data.
"""

from collections.abc import Sequence

from django.db.models import Model
from pydicom.dataset import Dataset

from audit import reads
from model.imaging import read_dicom

from .models import Instance, Series


def record_read(target: Model | None, what: str, *, actor=None, count: int | None = None) -> None:
    """Audit a read of patient data; ``what`` says which data (``frames``, ``metadata``...)."""
    reads.record_read(target, what, actor=actor, count=count,
                      object_type="" if target is not None else "imaging.search")


def instance_bytes(instance: Instance, what: str, *, actor=None) -> bytes:
    record_read(instance, what, actor=actor)
    return _file_bytes(instance)


def instance_dataset(instance: Instance, what: str, *, actor=None) -> Dataset:
    record_read(instance, what, actor=actor)
    return read_dicom(_file_bytes(instance))


def series_datasets(
    series: Series, what: str, *, actor=None, headers_only: bool = False
) -> list[Dataset]:
    """All images of ``series`` in stored order, recorded as one read."""
    record_read(series, what, actor=actor)
    return read_series_files(series.instances.all(), headers_only=headers_only)


def read_series_files(instances: Sequence[Instance], *, headers_only: bool) -> list[Dataset]:
    """For this module and :mod:`imaging.volumes` only: callers outside record the read."""
    datasets = []
    for instance in instances:
        with instance.file.open("rb") as stream:
            datasets.append(read_dicom(stream, stop_before_pixels=headers_only))
    return datasets


def _file_bytes(instance: Instance) -> bytes:
    with instance.file.open("rb") as stream:
        return stream.read()
