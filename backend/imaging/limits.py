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

    @classmethod
    def from_settings(cls) -> "UploadLimits":
        return cls(
            max_file_bytes=_setting("MAX_FILE_BYTES", 512 * 1024 * 1024),
            max_upload_bytes=_setting("MAX_UPLOAD_BYTES", 4 * 1024 * 1024 * 1024),
            max_archive_members=_setting("MAX_ARCHIVE_MEMBERS", 20000),
            max_compression_ratio=_setting("MAX_COMPRESSION_RATIO", 200),
        )
