"""Every bench runs in its --smoke mode and passes its own checks, so none rots unnoticed.

Discovered, not listed: each bench/*.py with a ``if __name__ == "__main__"`` block (helper
modules such as bench/embedded_site.py have none) and each bench/*.sh. Each runs in a
subprocess from the repository root with this interpreter and an environment without the
suite's shared database, broker and test folders (benches make private installations)."""
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "bench"
TIMEOUT = 300
MAIN = re.compile(r"""^if __name__ == ["']__main__["']:""", re.M)
SHARED = ("DATABASE_URL", "CELERY_BROKER_URL", "MEDSAM_BROKER_DIR", "MEDSAM_TEST_DB_NAME",
          "MEDSAM_VAR_DIR", "MEDSAM_MEDIA_ROOT", "MEDSAM_AUDIT_ANCHOR_FILE",
          "DJANGO_SETTINGS_MODULE")


def benches() -> list[str]:
    found = [p.name for p in sorted(BENCH.glob("*.py")) if MAIN.search(p.read_text())]
    return found + [p.name for p in sorted(BENCH.glob("*.sh"))]


def clean_env() -> dict:
    env = {k: v for k, v in os.environ.items() if k not in SHARED}
    env["PYTHON"] = sys.executable  # what the shell benches call
    return env


def tail(text: str, lines: int = 40) -> str:
    return "\n".join(text.splitlines()[-lines:])


def test_discovery_finds_the_benches():
    names = benches()
    assert "broker_transport.py" in names and "gpu_check.sh" in names
    assert "embedded_site.py" not in names


@pytest.mark.parametrize("name", benches())
def test_bench_smoke(name):
    path = BENCH / name
    if name.endswith(".sh"):
        syntax = subprocess.run(["bash", "-n", str(path)], capture_output=True, text=True)
        assert syntax.returncode == 0, syntax.stderr
        command = ["bash", str(path), "--smoke"]
    else:
        command = [sys.executable, str(path), "--smoke"]
    try:
        run = subprocess.run(command, cwd=ROOT, env=clean_env(), capture_output=True,
                             text=True, timeout=TIMEOUT)
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout or ""
        out = out.decode(errors="replace") if isinstance(out, bytes) else out
        pytest.fail(f"{name} --smoke ran past {TIMEOUT} s\n--- stdout ---\n{tail(out)}")
    assert run.returncode == 0, (
        f"{name} --smoke exited {run.returncode}\n--- stdout ---\n{tail(run.stdout)}"
        f"\n--- stderr ---\n{tail(run.stderr)}")
