#!/usr/bin/env bash
# Runs the whole test suite: lint, frontend type check, then pytest. Uses the embedded
# default (SQLite, file-system broker) unless DATABASE_URL / CELERY_BROKER_URL say otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh --test
echo "==> ruff"
.venv/bin/ruff check .
echo "==> TypeScript"
npm run --silent typecheck
echo "==> vitest"
npm run --silent test
echo "==> pytest"
exec .venv/bin/python -m pytest "$@"
