"""An empty database to restore into; the head CT and prompt library fixtures."""
import uuid

import pytest
from django.db import connection

from tests.backend.annotations.conftest import head_ct, library, make_head_series  # noqa: F401
from tests.backend.ops.databases import postgres_admin, postgres_url


@pytest.fixture
def empty_database(tmp_path):
    """The DATABASE_URL of a new, empty database of the suite's vendor; dropped afterwards."""
    if connection.vendor == "sqlite":
        yield f"sqlite:///{tmp_path / 'restored.sqlite3'}"
        return
    name = f"medsam_restore_{uuid.uuid4().hex[:10]}"
    postgres_admin(f'CREATE DATABASE "{name}"')
    yield postgres_url(name)
    postgres_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


