"""Other databases beside the suite's: URLs, plain DB-API reads (no Django conversions, so two
databases compare as stored) and manage.py run against them in a new process."""
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from django.conf import settings
from django.db import connection


def postgres_url(name: str) -> str:
    params = connection.settings_dict
    auth = params["USER"] + (f":{params['PASSWORD']}" if params.get("PASSWORD") else "")
    return f"postgres://{auth}@{params['HOST'] or '127.0.0.1'}:{params['PORT'] or 5432}/{name}"


def postgres_admin(sql: str) -> None:
    import psycopg

    params = connection.settings_dict
    with psycopg.connect(
        host=params["HOST"] or "127.0.0.1", port=params["PORT"] or 5432, user=params["USER"],
        password=params.get("PASSWORD") or None, dbname="postgres", autocommit=True,
    ) as admin:
        admin.execute(sql)


def raw_connection(url: str):
    if url.startswith("sqlite:///"):
        return sqlite3.connect(url.removeprefix("sqlite:///"))
    import psycopg

    return psycopg.connect(url)


def table_names(url: str) -> list[str]:
    with raw_connection(url) as conn:
        cursor = conn.cursor()
        if url.startswith("sqlite:///"):
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        else:
            cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        return sorted(row[0] for row in cursor.fetchall())


def suite_database_url() -> str:
    name = connection.settings_dict["NAME"]
    return f"sqlite:///{name}" if connection.vendor == "sqlite" else postgres_url(name)


def table_rows(url: str, tables: list[str]) -> dict[str, list]:
    """Every row of every table, in a stable order."""
    rows = {}
    with raw_connection(url) as conn:
        cursor = conn.cursor()
        for table in tables:
            cursor.execute(f'SELECT * FROM "{table}"')
            rows[table] = sorted(cursor.fetchall(), key=repr)
    return rows


def manage(*args: str, database_url: str, media_root: Path) -> subprocess.CompletedProcess:
    """Run manage.py in a new process against another database and media folder."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": database_url,
        "MEDSAM_MEDIA_ROOT": str(media_root),
        "PYTHONPATH": f"{settings.BACKEND_DIR}:{settings.REPO_ROOT}",
    }
    env.pop("MEDSAM_TEST_DB_NAME", None)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=settings.REPO_ROOT, env=env,
        capture_output=True, text=True, timeout=300,
    )
