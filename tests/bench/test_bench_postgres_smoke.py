"""The benches that have a PostgreSQL mode run their --smoke on it, when the suite itself runs
on PostgreSQL (DATABASE_URL, as in the CI's PostgreSQL run): each makes a private database
(``medsam_loadbench``) on the suite's server, and drops it afterwards."""
import os
import subprocess
import sys
from urllib.parse import urlsplit

import pytest

from tests.bench.test_bench_smoke import BENCH, ROOT, TIMEOUT, clean_env, tail

URL = os.environ.get("DATABASE_URL", "")

pytestmark = pytest.mark.skipif(not URL.startswith(("postgres://", "postgresql://")),
                                reason="the suite runs on SQLite; no PostgreSQL server named")


@pytest.mark.parametrize("name", ["read_audit.py", "load_api.py"])
def test_bench_smoke_on_postgresql(name):
    parts = urlsplit(URL)
    env = clean_env()
    env["MEDSAM_LOADBENCH_POSTGRES"] = f"postgres://{parts.netloc}"
    env["MEDSAM_LOADBENCH_DB"] = f"medsam_loadbench_{os.getpid()}"  # not another run's
    run = subprocess.run([sys.executable, str(BENCH / name), "--smoke", "--database", "postgres"],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=TIMEOUT)
    assert run.returncode == 0, (
        f"{name} --smoke --database postgres exited {run.returncode}\n--- stdout ---\n"
        f"{tail(run.stdout)}\n--- stderr ---\n{tail(run.stderr)}")
    assert "database: postgres" in run.stdout
