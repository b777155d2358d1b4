"""Settings for the test suite: the embedded default or whatever DATABASE_URL and
CELERY_BROKER_URL name (CI points them at PostgreSQL and Redis)."""
from .local import *  # noqa: F403

# Tests create many users; the signing tests still exercise real password checks.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]
