"""The media disk fills up during an upload -- a real full filesystem (a small tmpfs mounted for
the test; needs root, skipped where mounting is not allowed): the upload answers with a reason,
never a server error; every file it reports imported is whole on disk with its row, and nothing
else is left behind (no partial files, no rows without files)."""
import os
import subprocess
import tempfile
from pathlib import Path

import pytest
from rest_framework.test import APIClient

from imaging.models import Instance
from tests.backend.imaging.conftest import series_files


@pytest.fixture
def full_disk(settings):
    mount_point = Path(tempfile.mkdtemp(prefix="medsam-full-"))
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs",
                              str(mount_point)], capture_output=True, text=True)
    if mounted.returncode != 0:
        mount_point.rmdir()
        message = f"cannot mount a small tmpfs here: {mounted.stderr.strip()}"
        pytest.fail(message) if os.environ.get("CI") else pytest.skip(message)
    settings.MEDIA_ROOT = mount_point / "media"
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", str(mount_point)], check=True)
        mount_point.rmdir()


def fill(mount_point: Path, leave: int) -> None:
    """Write filler until only about ``leave`` bytes are free."""
    stats = os.statvfs(mount_point)
    free = stats.f_bavail * stats.f_frsize
    (mount_point / "filler").write_bytes(b"\0" * max(free - leave, 0))


@pytest.mark.django_db
def test_an_upload_onto_a_full_disk_is_refused_cleanly(full_disk, users):
    files = series_files(12)
    size = len(next(iter(files.values())))
    fill(full_disk, leave=3 * size)
    client = APIClient()
    client.force_login(users["annotator"])
    response = client.post("/api/v1/imaging/uploads/", {"files": [
        _named(name, data) for name, data in files.items()]}, format="multipart")
    assert response.status_code < 500, response.content[:500]
    body = response.json()
    imported = [f for f in body["files"] if f["status"] == "imported"]
    refused = [f for f in body["files"] if f["status"] != "imported"]
    assert refused, "the disk was full, yet every file was stored"
    assert all(f.get("reason") for f in refused), refused
    on_disk = sorted(p for p in (full_disk / "media").rglob("*") if p.is_file())
    assert len(on_disk) == Instance.objects.count() == len(imported)
    for instance in Instance.objects.all():
        assert instance.file.size == size and instance.file.storage.exists(instance.file.name)


def _named(name, data):
    import io

    stream = io.BytesIO(data)
    stream.name = name
    return stream
