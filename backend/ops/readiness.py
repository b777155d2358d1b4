"""Readiness of a web or worker process: can it take work now?

Liveness is deliberately not here: a live process is one that answers at all, whatever the
database or broker do, so that an outage of either never makes the orchestrator restart every
process at once.
"""
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from core.health import check_broker, check_database

_migrated = False


def check_migrations() -> dict:
    """Whether the database has every migration this code knows. A process of a new release
    is not ready until the release's migrations ran (see docs/deploy.md); once true, it stays
    true for the life of the process, so old processes keep serving during the next one."""
    global _migrated
    if _migrated:
        return {"ok": True}
    try:
        executor = MigrationExecutor(connection)
        pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except Exception as exc:
        return {"ok": False, "error": type(exc).__name__}
    if pending:
        return {"ok": False, "pending": len(pending)}
    _migrated = True
    return {"ok": True}


def readiness() -> tuple[dict, bool]:
    database = check_database()
    checks = {
        "database": database,
        "migrations": check_migrations() if database["ok"] else {"ok": False},
        "broker": check_broker(),
    }
    ready = all(check["ok"] for check in checks.values())
    return {"status": "ready" if ready else "not ready", **checks}, ready
