"""Load on one web process (gunicorn, 1 worker, 4 threads, the image's settings) on loopback:
wrk drives concurrent simulated annotators, each looping over the worklist, image frames of a
real head CT series and the result's mask -- what the viewer asks for while a user scrolls.

For each concurrency it reports requests per second, p50/p99 latency and errors, and the
largest number of concurrent users served at p99 under 200 ms with zero errors. A simulated
user requests back to back unless ``--think-ms`` gives the mean pause between one user's
requests (uniform over half to one and a half times it): back to back is a floor; a scrolling
annotator with a pause of a few hundred milliseconds is the figure to size a site with.

    .venv/bin/python bench/load_api.py [--seconds 10] [--users 1,2,4,8,16,32] [--think-ms 0]
        [--smoke] [--database sqlite|postgres]

The installation is private (bench/load_seed.py): its own SQLite database and file-system
broker in a temporary folder, whatever DATABASE_URL / CELERY_BROKER_URL say.
--database postgres: the same on a private PostgreSQL database instead, ``medsam_loadbench``
on 127.0.0.1:5432 (user postgres, trust authentication), created for the run and dropped
after it, with persistent connections as deployed (DATABASE_CONN_MAX_AGE=60). After the load
it prints how many reads the audit wrote: chained ``imaging.read`` entries and read records.

--smoke: 4 slices, 1 and 2 users for 1 s, a few solo requests (seconds); the same server,
seed, sign-in and request mix, driven by wrk when it is installed and otherwise by a small
Python client (same paths, same session). Any run exits non-zero when a load had errors.

Needs wrk (Debian: wrk) and Debian's invesalius-examples (the head CT)."""
import argparse
import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests
from load_seed import private_env, private_postgres, seed_private_site

REPO = Path(__file__).resolve().parents[1]
LUA = """
local paths = {%s}
local n = 0
local think = %d
if think > 0 then
  delay = function() return math.random(math.floor(think / 2), math.floor(think * 3 / 2)) end
end
request = function()
  n = n + 1
  return wrk.format("GET", paths[(n %% #paths) + 1], {["Cookie"] = "sessionid=%s",
                    ["Accept"] = "*/*"})
end
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def paths_for(data: dict) -> list[str]:
    base = f"/api/v1/imaging/dicom-web/studies/{data['study']}/series/{data['series']}"
    frames = [f"{base}/instances/{sop}/frames/1" for sop in data["sops"][::2]]
    mask = f"/api/v1/annotations/results/{data['result']}/mask"
    # Per loop: the worklist once, the mask once, the frames a user scrolls through.
    return ["/api/v1/annotations/worklist", mask, *frames]


def run_wrk(url: str, script: Path, users: int, seconds: int) -> dict:
    out = subprocess.run(
        ["wrk", "-t", str(min(users, 2)), "-c", str(users), "-d", f"{seconds}s", "--latency",
         "--timeout", "10s", "-s", str(script), url],
        capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    latency = dict(re.findall(r"^\s+(50|99)%\s+(\S+)", out, re.M))
    errors = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses: (\d+)", out))
    errors += sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    return {"users": users, "rps": rps, "p50_ms": to_ms(latency["50"]),
            "p99_ms": to_ms(latency["99"]), "errors": errors}


def run_python_client(base: str, paths: list[str], cookies, users: int, seconds: int,
                      think_ms: int) -> dict:
    """What run_wrk measures, without wrk (smoke runs only): ``users`` threads, each with the
    same session cookie, looping over ``paths`` for ``seconds``."""
    import random

    took, errors, lock = [], [0], threading.Lock()
    deadline = time.perf_counter() + seconds

    def user(offset: int) -> None:
        with requests.Session() as session:
            session.cookies.update(cookies)
            n = offset
            while time.perf_counter() < deadline:
                n += 1
                start = time.perf_counter()
                try:
                    ok = session.get(base + paths[n % len(paths)], timeout=10,
                                     headers={"Accept": "*/*"}).status_code < 400
                except requests.RequestException:
                    ok = False
                with lock:
                    took.append((time.perf_counter() - start) * 1000)
                    errors[0] += not ok
                if think_ms:
                    time.sleep(random.uniform(think_ms / 2, think_ms * 3 / 2) / 1000)

    threads = [threading.Thread(target=user, args=(i,)) for i in range(users)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    ordered = sorted(took) or [0.0]
    return {"users": users, "rps": len(took) / elapsed, "p50_ms": statistics.median(ordered),
            "p99_ms": ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))],
            "errors": errors[0] + (not took)}


def sign_in(session: requests.Session, base: str, username: str, password: str) -> None:
    """As the viewer signs in: GET the session (sets the csrftoken cookie), then POST the
    credentials with that token in X-CSRFToken."""
    session.get(f"{base}/api/v1/accounts/session", timeout=10).raise_for_status()
    token = session.cookies.get("csrftoken")
    if not token:
        raise RuntimeError("GET /api/v1/accounts/session set no csrftoken cookie")
    login = session.post(f"{base}/api/v1/accounts/session",
                         json={"username": username, "password": password},
                         headers={"X-CSRFToken": token, "Referer": f"{base}/"}, timeout=10)
    if login.status_code >= 400:
        raise RuntimeError(f"sign-in failed: {login.status_code} {login.text[:200]}")
    if "sessionid" not in session.cookies:
        raise RuntimeError("sign-in set no sessionid cookie")


def to_ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1, "s": 1000, "m": 60000}[unit]


def load(args, slices: int, solo: int, have_wrk: bool, database_url: str | None) -> list[dict]:
    """Seed the private installation, serve it, drive the load; one row per concurrency."""
    var = Path(tempfile.mkdtemp(prefix="medsam-load-"))
    password = secrets.token_urlsafe(16) + "aA1!"
    env = private_env(var, password, int(os.environ.get("LOAD_SLICES", slices)), database_url)
    port = free_port()
    server = None
    try:
        data = seed_private_site(env)
        with (var / "web.log").open("w") as log:
            server = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "config.wsgi", "-b", f"127.0.0.1:{port}",
                 "-w", "1", "--threads", "4", "--chdir", str(REPO / "backend")],
                cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=log,
                start_new_session=True)
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                requests.get(f"{base}/livez", timeout=5).raise_for_status()
                break
            except requests.RequestException:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the web server did not come up:\n"
                                       + (var / "web.log").read_text()[-2000:]) from None
                time.sleep(0.2)
        session = requests.Session()
        sign_in(session, base, "load_annotator", password)
        paths = paths_for(data)
        for path in paths[:3]:
            answer = session.get(base + path)
            assert answer.status_code == 200, (path, answer.status_code, answer.text[:200])
        script = var / "load.lua"
        script.write_text(LUA % (", ".join(f'"{p}"' for p in paths), args.think_ms,
                                 session.cookies["sessionid"]))
        for path in paths[:3]:
            took = []
            for _ in range(solo):
                start = time.perf_counter()
                session.get(base + path).raise_for_status()
                took.append((time.perf_counter() - start) * 1000)
            print(f"alone: {path.split('/')[-1] or path:>12} median "
                  f"{statistics.median(took):.1f} ms")
        if have_wrk:
            rows = [run_wrk(base, script, int(u), args.seconds) for u in args.users.split(",")]
        else:
            print("wrk is not installed: smoke load by the Python client")
            rows = [run_python_client(base, paths, session.cookies, int(u), args.seconds,
                                      args.think_ms) for u in args.users.split(",")]
        print(audit_counts(env))
    finally:
        if server is not None:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
        shutil.rmtree(var, ignore_errors=True)
    return rows


AUDIT_COUNTS = """
from audit.models import AuditEntry
try:
    from audit.models import ReadRecord
    records = ReadRecord.objects.count()
except ImportError:
    records = "no read log"
print("AUDIT", AuditEntry.objects.filter(action="imaging.read").count(), records)
"""


def audit_counts(env: dict) -> str:
    """What the audit holds after the load: chained reads and read records."""
    out = subprocess.run([sys.executable, "manage.py", "shell", "-c", AUDIT_COUNTS], cwd=REPO,
                         env=env, capture_output=True, text=True, check=True).stdout
    chained, records = out.split("AUDIT ", 1)[1].split(maxsplit=1)
    return f"audit after the load: {chained} chained imaging.read entries, read records: " \
        f"{records.strip()}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--users", default="1,2,4,8,16,32")
    parser.add_argument("--think-ms", type=int, default=0,
                        help="mean pause between one user's requests (0: back to back)")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, seconds")
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite",
                        help="the private installation's database (default: SQLite)")
    args = parser.parse_args()
    slices, solo = 24, 15
    if args.smoke:
        args.seconds, args.users, slices, solo = 1, "1,2", 4, 3
    have_wrk = shutil.which("wrk") is not None
    if not have_wrk and not args.smoke:
        sys.exit("wrk is not installed (Debian: apt-get install wrk)")
    with (private_postgres() if args.database == "postgres"
          else contextlib.nullcontext()) as database_url:
        rows = load(args, slices, solo, have_wrk, database_url)
    print(f"database: {args.database}; think time {args.think_ms} ms")
    print(f"{'users':>6} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")
    for row in rows:
        print(f"{row['users']:>6} {row['rps']:>8.1f} {row['p50_ms']:>8.1f} {row['p99_ms']:>8.1f}"
              f" {row['errors']:>7}")
    good = [r for r in rows if r["p99_ms"] < 200 and r["errors"] == 0]
    best = max(good, key=lambda r: r["users"]) if good else None
    print(json.dumps({"rows": rows, "max_users_p99_under_200ms": best and best["users"],
                      "rps_at_that_load": best and best["rps"]}))
    failed = [row["users"] for row in rows if row["errors"]]
    if failed:
        sys.exit(f"requests failed under load at {failed} users")


if __name__ == "__main__":
    main()
