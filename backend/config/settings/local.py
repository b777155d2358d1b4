"""The embedded default: SQLite file, file-system broker, served on loopback."""
import os
import secrets

from .base import *  # noqa: F403
from .base import VAR_DIR, env_bool


def _local_secret(name: str) -> str:
    """A per-installation key kept in var/<name> (0600), generated on first use (never in the
    code or the database). Created exclusively, so two processes starting together agree."""
    path = VAR_DIR / name
    if not path.exists():
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(descriptor, "w") as stream:
                stream.write(secrets.token_urlsafe(50))
    return path.read_text().strip()


DEBUG = env_bool("DJANGO_DEBUG", False)
SECRET_KEY = SECRET_KEY or _local_secret("secret_key")  # noqa: F405
# The audit trail's own key (chain and anchors), apart from SECRET_KEY: see docs/security.md.
AUDIT_CHAIN_KEY = AUDIT_CHAIN_KEY or _local_secret("audit_key")  # noqa: F405
ALLOWED_HOSTS = ALLOWED_HOSTS or ["127.0.0.1", "localhost", "[::1]"]  # noqa: F405
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # noqa: F405  (whitenoise expects it)
