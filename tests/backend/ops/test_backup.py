"""Backup, then restore into an empty database and media folder: the same rows, the same
files, and an audit chain that verifies."""
import hashlib
import io
import json
import tarfile

import pytest
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.db import connection

from audit.models import AuditEntry
from tests.backend.ops.databases import manage, suite_database_url, table_names, table_rows

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def hospital_data(library, make_head_series, users):
    """Prompt library, an ingested CT series (media files) and their audit entries."""
    series, _, _ = make_head_series(3)
    assert AuditEntry.objects.count() > 10
    return series


def media_digests(root) -> dict[str, str]:
    return {
        str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*")) if path.is_file()
    }


def backup(tmp_path):
    path = tmp_path / "backup.tar"
    call_command("backup", output=path, stdout=open(tmp_path / "backup.log", "w"))
    return path


def test_it_restores_the_same_rows_files_and_a_valid_audit_chain(
    hospital_data, tmp_path, empty_database, settings
):
    archive = backup(tmp_path)
    media_root = tmp_path / "restored-media"

    restored = manage("restore", str(archive), database_url=empty_database, media_root=media_root)
    assert restored.returncode == 0, restored.stderr
    assert "as in the backup" in restored.stdout

    # Worker heartbeats change every second while a worker of the suite runs; they are live
    # state, not data (the restored copy holds the row as it was at backup time).
    tables = sorted(set(connection.introspection.table_names()) - {"core_workerheartbeat"})
    assert table_rows(empty_database, tables) == table_rows(suite_database_url(), tables)
    source_media = media_digests(settings.MEDIA_ROOT)
    source_media = {k: v for k, v in source_media.items() if not k.startswith("volume-cache/")}
    assert source_media and media_digests(media_root) == source_media

    verified = manage("audit_verify", database_url=empty_database, media_root=media_root)
    assert verified.returncode == 0, verified.stderr
    assert f"chain intact ({AuditEntry.objects.count()} entries)" in verified.stdout


def test_it_refuses_a_database_that_is_not_empty(hospital_data, tmp_path, settings):
    archive = backup(tmp_path)
    before = AuditEntry.objects.count()
    refused = manage("restore", str(archive), database_url=suite_database_url(),
                     media_root=tmp_path / "media")
    assert refused.returncode != 0
    assert "already has tables" in refused.stderr
    assert AuditEntry.objects.count() == before
    assert not (tmp_path / "media").exists() or not any((tmp_path / "media").iterdir())


def test_it_refuses_a_damaged_archive_before_touching_anything(
    hospital_data, tmp_path, empty_database
):
    archive = backup(tmp_path)
    damaged = tmp_path / "damaged.tar"
    flipped = None
    with tarfile.open(archive) as source, tarfile.open(damaged, "w") as target:
        for member in source.getmembers():
            data = source.extractfile(member).read()
            if flipped is None and member.name.endswith(".dcm"):
                data = data[:-1] + bytes([data[-1] ^ 0xFF])
                flipped = member.name
            target.addfile(member, io.BytesIO(data))
    refused = manage("restore", str(damaged), database_url=empty_database,
                     media_root=tmp_path / "media")
    assert refused.returncode != 0
    assert f"{flipped} does not match its checksum" in refused.stderr
    assert table_names(empty_database) == []
    assert not (tmp_path / "media").exists()


def test_the_manifest_names_every_media_file_with_its_checksum(
    hospital_data, tmp_path, settings
):
    archive = backup(tmp_path)
    with tarfile.open(archive) as opened:
        manifest = json.load(opened.extractfile("manifest.json"))
    names = {f.file.name for f in hospital_data.instances.all()}
    assert len(names) == 3 and names <= set(manifest["media"])
    # Every stored file (earlier tests' too), none of the derived volume cache.
    assert set(manifest["media"]) == set(media_digests(settings.MEDIA_ROOT)) - {
        name for name in media_digests(settings.MEDIA_ROOT) if name.startswith("volume-cache/")
    }
    for name in names:
        with default_storage.open(name, "rb") as stream:
            assert manifest["media"][name] == hashlib.sha256(stream.read()).hexdigest()
    assert manifest["audit"]["head_hash"] == AuditEntry.objects.order_by("-seq")[0].entry_hash
