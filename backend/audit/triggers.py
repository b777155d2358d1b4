"""Database triggers that refuse UPDATE, DELETE (and on PostgreSQL TRUNCATE) on the
append-only tables, whoever connects: the ORM, a raw SQL session or an administrator's shell.

Installed by the migration of the app owning each table (audit 0003 for the trail and the
signatures, audit 0006 for the read log, annotations 0003 for mask versions); a change to the
SQL here needs a new migration that calls ``install`` again (it replaces what is there).
"""

AUDIT_TABLES = ("audit_auditentry", "audit_signature")
# The unchained log of every read of patient data (``audit.models.ReadRecord``).
READ_LOG_TABLES = ("audit_readrecord",)
# What a signature is bound to is as append-only as the signature.
SIGNED_CONTENT_TABLES = ("annotations_maskversion",)
APPEND_ONLY_TABLES = AUDIT_TABLES + READ_LOG_TABLES + SIGNED_CONTENT_TABLES

REFUSAL = "audit records are append-only"

_POSTGRES_FUNCTION = f"""
CREATE OR REPLACE FUNCTION audit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '{REFUSAL}: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'integrity_constraint_violation';
END
$$;
"""


def _postgres_install(table: str) -> list[str]:
    return [
        f"DROP TRIGGER IF EXISTS {table}_append_only ON {table};",
        f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
        "FOR EACH ROW EXECUTE FUNCTION audit_refuse_change();",
        f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table};",
        f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
        "FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change();",
    ]


def _postgres_remove(table: str) -> list[str]:
    return [
        f"DROP TRIGGER IF EXISTS {table}_append_only ON {table};",
        f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table};",
    ]


def _sqlite_install(table: str) -> list[str]:
    statements = []
    for operation in ("UPDATE", "DELETE"):
        name = f"{table}_no_{operation.lower()}"
        statements += [
            f"DROP TRIGGER IF EXISTS {name};",
            f"CREATE TRIGGER {name} BEFORE {operation} ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{REFUSAL}: {operation} on {table} refused'); END;",
        ]
    return statements


def _sqlite_remove(table: str) -> list[str]:
    return [f"DROP TRIGGER IF EXISTS {table}_no_{op};" for op in ("update", "delete")]


def _statements(vendor: str, install: bool, tables) -> list[str]:
    if vendor == "postgresql":
        per_table = _postgres_install if install else _postgres_remove
        prelude = [_POSTGRES_FUNCTION] if install else []
    elif vendor == "sqlite":
        per_table = _sqlite_install if install else _sqlite_remove
        prelude = []
    else:
        raise NotImplementedError(f"No append-only triggers for the {vendor} database.")
    return prelude + [sql for table in tables for sql in per_table(table)]


def install(connection, tables=APPEND_ONLY_TABLES) -> None:
    with connection.cursor() as cursor:
        for sql in _statements(connection.vendor, True, tables):
            cursor.execute(sql)


def remove(connection, tables=APPEND_ONLY_TABLES) -> None:
    """Only for the test database's flush and for tamper tests (``audit.management``)."""
    with connection.cursor() as cursor:
        for sql in _statements(connection.vendor, False, tables):
            cursor.execute(sql)
