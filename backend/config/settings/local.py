"""The embedded default: SQLite file, file-system broker, served on loopback."""
import secrets

from .base import *  # noqa: F403
from .base import VAR_DIR, env_bool


def _local_secret_key() -> str:
    """A per-installation key kept under var/, generated on first use (never in the code)."""
    path = VAR_DIR / "secret_key"
    if not path.exists():
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


DEBUG = env_bool("DJANGO_DEBUG", False)
SECRET_KEY = SECRET_KEY or _local_secret_key()  # noqa: F405
ALLOWED_HOSTS = ALLOWED_HOSTS or ["127.0.0.1", "localhost", "[::1]"]  # noqa: F405
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # noqa: F405  (whitenoise expects it)
