"""Files holding patient data or keys are not readable by other local users: the database,
media, backups (0600) and what an older installation left world-readable."""
import os
import stat
import subprocess
import sys

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command

from core.file_modes import close_to_others


def others(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode) & 0o007


def test_media_files_and_their_folders_are_closed_to_others(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    name = default_storage.save("dicom/1.2.3/series/one.dcm", ContentFile(b"DICM"))
    path = default_storage.path(name)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o640
    assert others(os.path.dirname(path)) == 0


@pytest.mark.django_db(transaction=True)
def test_a_backup_is_readable_by_its_owner_only(tmp_path):
    target = tmp_path / "backup.tar"
    os.umask(0o022)  # even where the operator's shell mask is the usual one
    try:
        call_command("backup", output=target, stdout=open(tmp_path / "backup.log", "w"))
    finally:
        os.umask(settings.FILE_MODE_UMASK)
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600
    import tarfile

    with tarfile.open(target) as archive:
        assert {member.mode for member in archive.getmembers()} == {0o600}


def test_a_new_sqlite_database_and_the_installation_keys_are_closed_to_others(tmp_path):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.local",
           "MEDSAM_VAR_DIR": str(tmp_path)}
    for name in ("DATABASE_URL", "CELERY_BROKER_URL", "MEDSAM_BROKER_DIR", "MEDSAM_TEST_DB_NAME"):
        env.pop(name, None)
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput"], env=env, check=True,
                   cwd=settings.REPO_ROOT, capture_output=True, timeout=300)
    assert (tmp_path / "db.sqlite3").exists()
    for path in [tmp_path / "db.sqlite3", *tmp_path.glob("db.sqlite3-*")]:
        assert others(path) == 0, path
    assert stat.S_IMODE(os.stat(tmp_path / "secret_key").st_mode) == 0o600
    assert stat.S_IMODE(os.stat(tmp_path / "audit_key").st_mode) == 0o600


def test_what_an_older_installation_left_open_is_closed(tmp_path):
    (tmp_path / "media" / "dicom").mkdir(parents=True)
    image = tmp_path / "media" / "dicom" / "one.dcm"
    image.write_bytes(b"DICM")
    database = tmp_path / "db.sqlite3"
    database.write_bytes(b"")
    for path, mode in [(image, 0o644), (database, 0o666), (tmp_path / "media", 0o755)]:
        path.chmod(mode)
    link = tmp_path / "elsewhere"
    link.symlink_to("/etc/hostname")

    assert close_to_others(tmp_path) >= 3
    assert stat.S_IMODE(os.stat(image).st_mode) == 0o640
    assert stat.S_IMODE(os.stat(database).st_mode) == 0o660
    assert stat.S_IMODE(os.stat(tmp_path / "media").st_mode) == 0o750
    assert others("/etc/hostname") != 0  # links are not followed
    assert close_to_others(tmp_path) == 0
    assert close_to_others(database) == 0
