#!/usr/bin/env bash
# Runs the application on its embedded default: SQLite under var/, a Celery worker on the
# file-system broker, and the web server on http://127.0.0.1:8000/. Ctrl-C stops everything.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
exec .venv/bin/python manage.py serve "$@"
