"""Turning what a user sends (files, zips, folders) into named byte strings, refusing unsafe
archives (zip bombs, path traversal, nesting) member by member."""

import io
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import BinaryIO

from .limits import UploadLimits
from .outcomes import FileOutcome, rejected

ZIP_MAGIC = b"PK\x03\x04"


@dataclass(frozen=True)
class IncomingFile:
    name: str
    data: bytes


def expand(
    sources: Iterable[tuple[str, BinaryIO, int]], limits: UploadLimits
) -> Iterator[IncomingFile | FileOutcome]:
    """Yield each file of ``sources`` (name, stream, size), expanding zip archives."""
    total = 0
    for name, stream, size in sources:
        if size > limits.max_file_bytes:
            yield _too_large(name, limits)
            continue
        total += size
        if total > limits.max_upload_bytes:
            yield rejected(name, "upload_too_large", _upload_message(limits))
            continue
        data = stream.read(limits.max_file_bytes + 1)
        if len(data) > limits.max_file_bytes:
            yield _too_large(name, limits)
        elif data.startswith(ZIP_MAGIC):
            yield from _expand_zip(name, data, limits)
        else:
            yield IncomingFile(name, data)


def _too_large(name: str, limits: UploadLimits) -> FileOutcome:
    return rejected(
        name,
        "too_large",
        f"the file is larger than the limit of {limits.max_file_bytes // (1024 * 1024)} MiB",
    )


def _upload_message(limits: UploadLimits) -> str:
    return (
        f"the upload exceeds {limits.max_upload_bytes // (1024 * 1024)} MiB in total; "
        "send it in parts"
    )


def _expand_zip(
    name: str, data: bytes, limits: UploadLimits
) -> Iterator[IncomingFile | FileOutcome]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = [m for m in archive.infolist() if not m.is_dir()]
    except (zipfile.BadZipFile, OSError, ValueError):
        yield rejected(name, "corrupt", "the zip archive is damaged and cannot be opened")
        return
    if len(members) > limits.max_archive_members:
        yield rejected(
            name,
            "too_many_files",
            f"the archive holds more than {limits.max_archive_members} files",
        )
        return
    expanded = 0
    for member in members:
        member_name = f"{name}/{member.filename}"
        if not _safe_member_name(member.filename):
            yield rejected(
                member_name, "unsafe_path", "the archive member's path leaves the archive folder"
            )
            continue
        if member.file_size > limits.max_file_bytes:
            yield _too_large(member_name, limits)
            continue
        ratio = member.file_size / max(member.compress_size, 1)
        if ratio > limits.max_compression_ratio and member.file_size > 1024 * 1024:
            yield rejected(
                member_name,
                "zip_bomb",
                f"the member expands {ratio:.0f} times its compressed size; refused as a zip bomb",
            )
            continue
        expanded += member.file_size
        if expanded > limits.max_upload_bytes:
            yield rejected(member_name, "upload_too_large", _upload_message(limits))
            continue
        try:
            with archive.open(member) as stream:
                content = stream.read(member.file_size + 1)
        except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError,
                zlib.error):
            yield rejected(member_name, "corrupt", "the archive member is damaged")
            continue
        if len(content) != member.file_size:
            yield rejected(member_name, "zip_bomb", "the member's size differs from its header")
        elif content.startswith(ZIP_MAGIC):
            yield rejected(
                member_name, "nested_archive", "archives inside archives are not expanded"
            )
        else:
            yield IncomingFile(member_name, content)


def _safe_member_name(filename: str) -> bool:
    if not filename or "\x00" in filename or "\\" in filename:
        return False
    path = PurePosixPath(filename)
    if path.is_absolute() or ".." in path.parts:
        return False
    return ":" not in path.parts[0]
