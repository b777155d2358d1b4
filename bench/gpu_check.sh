#!/usr/bin/env bash
# MedSAM-2 GPU check: bf16 on CUDA, frames per second at 512 and 1024 (tiny and
# small, random weights; also $MEDSAM2_CHECKPOINT when set), bf16-vs-fp32 mask
# agreement. Runs in well under 5 minutes on one GPU.
#     bench/gpu_check.sh            (from the repository root)
#     bench/gpu_check.sh --smoke    seconds, on any machine: checks this script's syntax and
#                                   runs bench/medsam2_gpu.py --smoke (on the GPU when there
#                                   is one, else on the CPU in fp32)
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-.venv/bin/python}"
if [[ "${1:-}" == "--smoke" ]]; then
  bash -n "$0"
  "$PYTHON" -c "import torch; print('cuda' if torch.cuda.is_available() else 'no cuda:', \
torch.version.cuda or 'cpu build, smoke on the CPU')"
  timeout 120 "$PYTHON" bench/medsam2_gpu.py --smoke
  exit 0
fi
"$PYTHON" -c "import torch; assert torch.cuda.is_available(), 'no CUDA device'; \
print('cuda', torch.version.cuda, torch.cuda.get_device_name(0))"
timeout 280 "$PYTHON" bench/medsam2_gpu.py --frames "${FRAMES:-40}" --variants "${VARIANTS:-tiny,small}"
