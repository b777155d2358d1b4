"""The media part of a backup, through Django's storage API: the same code serves a shared
folder and an S3-compatible store."""
import hashlib
from collections.abc import Iterator

from django.core.files.storage import default_storage

# Derived data rebuilt on demand (imaging.volumes): not worth backing up.
SKIPPED_FOLDERS = {"volume-cache"}
CHUNK = 1024 * 1024


def walk(folder: str = "") -> Iterator[str]:
    try:
        folders, files = default_storage.listdir(folder)
    except FileNotFoundError:
        return
    for name in sorted(files):
        yield f"{folder}/{name}" if folder else name
    for sub in sorted(folders):
        path = f"{folder}/{sub}" if folder else sub
        if path not in SKIPPED_FOLDERS:
            yield from walk(path)


def sha256_of(stream) -> str:
    digest = hashlib.sha256()
    for chunk in iter(lambda: stream.read(CHUNK), b""):
        digest.update(chunk)
    return digest.hexdigest()


def existing(names) -> list[str]:
    return [name for name in names if default_storage.exists(name)]


def save(name: str, stream) -> None:
    stored = default_storage.save(name, stream)
    if stored != name:
        raise RuntimeError(f"the storage renamed {name} to {stored}")
