"""One backup = one tar archive: the database dump, every media file, and a manifest with
their checksums, the applied migrations and the audit trail's length and head hash.

Restore checks the whole archive before it touches anything, refuses a database that has
tables or media names already present, and after loading compares the audit trail with the
manifest. ``manage.py audit_verify`` then walks the restored chain.
"""
import hashlib
import io
import json
import os
import tarfile
import tempfile
from pathlib import Path

from django.db import connection
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone

from . import database, media
from .database import BackupError

FORMAT = "medsam-backup/1"
MANIFEST = "manifest.json"


def _audit_state() -> dict:
    from audit.models import AuditEntry

    last = AuditEntry.objects.order_by("-seq").values("seq", "entry_hash").first()
    return {
        "entries": AuditEntry.objects.count(),
        "last_seq": last["seq"] if last else 0,
        "head_hash": last["entry_hash"] if last else "",
    }


def _file_sha256(path: Path) -> str:
    with open(path, "rb") as stream:
        return media.sha256_of(stream)


def _private(info: tarfile.TarInfo) -> tarfile.TarInfo:
    info.mode = 0o600
    return info


def create(target: Path) -> dict:
    """Write the backup archive to ``target``; returns its manifest."""
    from annotations.provenance import code_version

    member = database.member_name()
    with tempfile.TemporaryDirectory(prefix="medsam-backup-") as tmp:
        dump_path = Path(tmp) / member
        database.dump(dump_path)
        manifest = {
            "format": FORMAT,
            "created_at": timezone.now().isoformat(),
            "code_version": code_version(),
            "database": {
                "vendor": connection.vendor,
                "member": member,
                "sha256": _file_sha256(dump_path),
                "migrations": sorted(
                    f"{app}.{name}" for app, name in MigrationRecorder(connection)
                    .migration_qs.values_list("app", "name")
                ),
            },
            "audit": _audit_state(),
            "media": {},
        }
        # A backup holds every patient's data: readable by its owner only (0600), whatever
        # the process mask or the mode of a file already there.
        descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.fchmod(descriptor, 0o600)
        with os.fdopen(descriptor, "wb") as out, tarfile.open(fileobj=out, mode="w") as archive:
            archive.add(dump_path, arcname=member, filter=_private)
            for name in media.walk():
                with media.default_storage.open(name, "rb") as stream:
                    data = stream.read()
                manifest["media"][name] = hashlib.sha256(data).hexdigest()
                info = _private(tarfile.TarInfo(f"media/{name}"))
                info.size = len(data)
                archive.addfile(info, io.BytesIO(data))
            body = json.dumps(manifest, indent=2, sort_keys=True).encode()
            info = _private(tarfile.TarInfo(MANIFEST))
            info.size = len(body)
            archive.addfile(info, io.BytesIO(body))
    return manifest


def read_manifest(archive: tarfile.TarFile) -> dict:
    try:
        manifest = json.load(archive.extractfile(MANIFEST))
    except KeyError:
        raise BackupError("This file is not a backup made by `manage.py backup`.") from None
    if manifest.get("format") != FORMAT:
        raise BackupError(f"Unknown backup format {manifest.get('format')!r}.")
    return manifest


def verify(archive: tarfile.TarFile, manifest: dict) -> None:
    """Every member present with the checksum the manifest names."""
    expected = {manifest["database"]["member"]: manifest["database"]["sha256"]}
    expected.update({f"media/{name}": digest for name, digest in manifest["media"].items()})
    for name, digest in expected.items():
        try:
            stream = archive.extractfile(name)
        except KeyError:
            raise BackupError(f"The backup is incomplete: {name} is missing.") from None
        if media.sha256_of(stream) != digest:
            raise BackupError(f"The backup is damaged: {name} does not match its checksum.")


def restore(source: Path) -> dict:
    """Load the archive into the configured (empty) database and media storage."""
    with tarfile.open(source, "r") as archive:
        manifest = read_manifest(archive)
        verify(archive, manifest)
        if manifest["database"]["vendor"] != database.vendor():
            raise BackupError(
                f"This backup is of a {manifest['database']['vendor']} database; the "
                f"configured database is {database.vendor()}."
            )
        if not database.is_empty():
            raise BackupError(
                "The configured database already has tables. Restore only into an empty "
                "database: create a new one and point DATABASE_URL at it."
            )
        clashes = media.existing(manifest["media"])
        if clashes:
            raise BackupError(
                f"The media storage already holds {len(clashes)} of the backup's files (e.g. "
                f"{clashes[0]}). Restore into empty media storage."
            )
        with tempfile.TemporaryDirectory(prefix="medsam-restore-") as tmp:
            member = manifest["database"]["member"]
            archive.extract(member, tmp, filter="data")
            database.load(Path(tmp) / member)
        for name in manifest["media"]:
            media.save(name, archive.extractfile(f"media/{name}"))
    restored = _audit_state()
    if restored != manifest["audit"]:
        raise BackupError(
            f"The restored audit trail ({restored}) differs from the backup's "
            f"({manifest['audit']})."
        )
    return manifest
