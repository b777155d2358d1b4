"""Backup and restore of the database and media as one archive (``manage.py backup`` and
``manage.py restore``). The databases' own tools do the database part: pg_dump/pg_restore for
PostgreSQL, SQLite's online backup API for the embedded default."""
