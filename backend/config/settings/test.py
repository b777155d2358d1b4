"""Settings for the test suite: the embedded default or whatever DATABASE_URL and
CELERY_BROKER_URL name (CI points them at PostgreSQL and Redis).

Worker processes started by the tests get ``MEDSAM_TEST_DB_NAME`` so they open the test
database pytest-django created, and ``MEDSAM_BROKER_DIR`` for a private file-system broker.
"""
import os
from pathlib import Path

from .local import *  # noqa: F403
from .local import CELERY_BROKER_TRANSPORT_OPTIONS, DATABASES, VAR_DIR

# Tests create many users; the signing tests still exercise real password checks.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not memory, so worker processes share it with the test process; one per test
    # run, so concurrent runs on one machine do not share it.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-db-{os.getpid()}.sqlite3")}
if os.environ.get("MEDSAM_TEST_DB_NAME"):
    DATABASES["default"]["NAME"] = os.environ["MEDSAM_TEST_DB_NAME"]

if os.environ.get("MEDSAM_BROKER_DIR") and CELERY_BROKER_TRANSPORT_OPTIONS:
    from core.broker import folder_options

    CELERY_BROKER_TRANSPORT_OPTIONS = {
        **CELERY_BROKER_TRANSPORT_OPTIONS,
        **folder_options(Path(os.environ["MEDSAM_BROKER_DIR"])),
    }
MEDIA_ROOT = Path(os.environ.get("MEDSAM_MEDIA_ROOT", VAR_DIR / f"test-media-{os.getpid()}"))
# Each test has its own trail, so its own anchor file (tests/conftest.py sets one per test).
AUDIT_ANCHOR_PATH = Path(
    os.environ.get("MEDSAM_AUDIT_ANCHOR_FILE", VAR_DIR / f"test-audit-anchors-{os.getpid()}.log")
)

# The test runner empties the database between transactional tests; only here may the
# append-only audit tables be flushed (audit/management/commands/flush.py).
AUDIT_TRAIL_FLUSHABLE = True
