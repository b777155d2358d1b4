"""The database part of a backup, with each vendor's own tool."""
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from django.db import connection


class BackupError(Exception):
    """Backup or restore cannot go on; the message says why and what to do."""


def member_name() -> str:
    return {"postgresql": "database.pgdump", "sqlite": "database.sqlite3"}[vendor()]


def vendor() -> str:
    if connection.vendor not in ("postgresql", "sqlite"):
        raise BackupError(f"No backup method for the {connection.vendor} database.")
    return connection.vendor


def _postgres_env() -> dict:
    params = connection.settings_dict
    env = {**os.environ, "PGDATABASE": params["NAME"]}
    for key, variable in (("HOST", "PGHOST"), ("PORT", "PGPORT"), ("USER", "PGUSER"),
                          ("PASSWORD", "PGPASSWORD")):
        if params.get(key):
            env[variable] = str(params[key])
    if params.get("OPTIONS", {}).get("sslmode"):
        env["PGSSLMODE"] = params["OPTIONS"]["sslmode"]
    return env


def _run(command: list[str]) -> None:
    if shutil.which(command[0]) is None:
        raise BackupError(f"{command[0]} is not installed (Debian: postgresql-client).")
    done = subprocess.run(command, env=_postgres_env(), capture_output=True, text=True)
    if done.returncode != 0:
        raise BackupError(f"{command[0]} failed: {done.stderr.strip()[-2000:]}")


def dump(target: Path) -> None:
    """A consistent snapshot of the whole database into ``target``."""
    if vendor() == "postgresql":
        _run(["pg_dump", "--format=custom", "--no-owner", "--no-privileges",
              f"--file={target}"])
        return
    connection.ensure_connection()
    with sqlite3.connect(target) as copy:
        connection.connection.backup(copy)
    copy.close()


def is_empty() -> bool:
    return not connection.introspection.table_names()


def load(source: Path) -> None:
    """Load a dump into the (empty) configured database, all or nothing."""
    if vendor() == "postgresql":
        _run(["pg_restore", "--exit-on-error", "--single-transaction", "--no-owner",
              "--no-privileges", f"--dbname={connection.settings_dict['NAME']}", str(source)])
        return
    target = connection.settings_dict["NAME"]
    connection.close()
    with sqlite3.connect(source) as original, sqlite3.connect(target) as restored:
        original.backup(restored)
    original.close()
    restored.close()
