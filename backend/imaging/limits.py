"""Upload limits, configurable in settings (``IMAGING_*``) or the environment (``MEDSAM_*``)."""

import os
from dataclasses import dataclass

from django.conf import settings


def _setting(name: str, default: int) -> int:
    value = getattr(settings, f"IMAGING_{name}", None)
    if value is None:
        value = os.environ.get(f"MEDSAM_IMAGING_{name}") or default
    return int(value)


@dataclass(frozen=True)
class UploadLimits:
    max_file_bytes: int
    """Largest single file (or zip member), uncompressed."""
    max_upload_bytes: int
    """Largest total of one upload after expanding archives."""
    max_archive_members: int
    max_compression_ratio: int
    """A zip member expanding more than this many times its compressed size is a zip bomb."""
    max_decoded_bytes: int = 2 * 1024**3
    """Largest image once decoded (voxels x samples x max(bytes per voxel, 4)), checked from
    its header before allocating: a small .nii.gz may declare or inflate to gigabytes."""

    @classmethod
    def from_settings(cls) -> "UploadLimits":
        return cls(
            max_file_bytes=_setting("MAX_FILE_BYTES", 512 * 1024 * 1024),
            max_upload_bytes=_setting("MAX_UPLOAD_BYTES", 4 * 1024 * 1024 * 1024),
            max_archive_members=_setting("MAX_ARCHIVE_MEMBERS", 20000),
            max_compression_ratio=_setting("MAX_COMPRESSION_RATIO", 200),
            max_decoded_bytes=max_decoded_bytes(),
        )


DEFAULT_MAX_DECODED_BYTES = 2 * 1024**3


def max_decoded_bytes() -> int:
    """The one decoded-size cap for every image read from outside (uploads, PACS, reference
    imports): ``IMAGING_MAX_DECODED_BYTES`` or ``MEDSAM_IMAGING_MAX_DECODED_BYTES``, 2 GiB."""
    return _setting("MAX_DECODED_BYTES", DEFAULT_MAX_DECODED_BYTES)


def check_dicom_bytes(data: bytes) -> None:
    """Refuse a DICOM file whose deflated data set inflates past the cap, before pydicom
    inflates it (raises :class:`model.imaging.ImagingError`; a file that is not DICOM passes
    through for the caller's parser to refuse)."""
    import io

    from model.imaging.dicom_file import check_deflated_size, is_dicom_part10

    if is_dicom_part10(data[:132]):
        check_deflated_size(io.BytesIO(data), max_decoded_bytes())


def check_decoded_dicom(dataset) -> None:
    """Refuse pixel data whose header declares more than the cap once decoded."""
    from model.imaging.dicom_file import check_dicom_size

    check_dicom_size(dataset, max_decoded_bytes())
