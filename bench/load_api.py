"""Load on one web process (gunicorn, 1 worker, 4 threads, the image's settings) on loopback:
wrk drives concurrent simulated annotators, each looping over the worklist, image frames of a
real head CT series and the result's mask -- what the viewer asks for while a user scrolls.

For each concurrency it reports requests per second, p50/p99 latency and errors, and the
largest number of concurrent users served at p99 under 200 ms with zero errors. A simulated
user requests back to back unless ``--think-ms`` gives the mean pause between one user's
requests (uniform over half to one and a half times it): back to back is a floor; a scrolling
annotator with a pause of a few hundred milliseconds is the figure to size a site with.

    .venv/bin/python bench/load_api.py [--seconds 10] [--users 1,2,4,8,16,32] [--think-ms 0]

Needs wrk (Debian: wrk) and Debian's invesalius-examples (the head CT)."""
import argparse
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[1]
PYTHON = REPO / ".venv" / "bin" / "python"
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


def seed(env: dict) -> dict:
    subprocess.run([PYTHON, "manage.py", "migrate", "-v", "0"], cwd=REPO, env=env, check=True)
    script = (REPO / "bench" / "load_seed.py").read_text()
    out = subprocess.run([PYTHON, "manage.py", "shell", "-c", script], cwd=REPO, env=env,
                         check=True, capture_output=True, text=True).stdout
    return json.loads(next(line for line in out.splitlines() if line.startswith("LOAD "))[5:])


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


def to_ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1, "s": 1000, "m": 60000}[unit]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--users", default="1,2,4,8,16,32")
    parser.add_argument("--think-ms", type=int, default=0,
                        help="mean pause between one user's requests (0: back to back)")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed (Debian: apt-get install wrk)")
    var = Path(tempfile.mkdtemp(prefix="medsam-load-"))
    password = secrets.token_urlsafe(16) + "aA1!"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.local",
           "MEDSAM_VAR_DIR": str(var), "LOAD_PASSWORD": password,
           "PYTHONPATH": f"{REPO / 'backend'}:{REPO}", "MEDSAM_LOG_LEVEL": "WARNING",
           "MEDSAM_LOGIN_FAILURE_LIMIT": "1000"}
    port = free_port()
    server = None
    try:
        data = seed(env)
        server = subprocess.Popen(
            [REPO / ".venv" / "bin" / "gunicorn", "config.wsgi", "-b", f"127.0.0.1:{port}",
             "-w", "1", "--threads", "4", "--chdir", str(REPO / "backend")],
            cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=(var / "web.log").open("w"),
            start_new_session=True)
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                requests.get(f"{base}/livez", timeout=5).raise_for_status()
                break
            except requests.RequestException:
                time.sleep(0.2)
        session = requests.Session()
        login = session.post(f"{base}/api/v1/accounts/session",
                             json={"username": "load_annotator", "password": password})
        login.raise_for_status()
        paths = paths_for(data)
        for path in paths[:3]:
            answer = session.get(base + path)
            assert answer.status_code == 200, (path, answer.status_code, answer.text[:200])
        script = var / "load.lua"
        script.write_text(LUA % (", ".join(f'"{p}"' for p in paths), args.think_ms,
                                 session.cookies["sessionid"]))
        for path in paths[:3]:
            took = []
            for _ in range(15):
                start = time.perf_counter()
                session.get(base + path).raise_for_status()
                took.append((time.perf_counter() - start) * 1000)
            print(f"alone: {path.split('/')[-1] or path:>12} median {sorted(took)[7]:.1f} ms")
        rows = [run_wrk(base, script, int(u), args.seconds) for u in args.users.split(",")]
    finally:
        if server is not None:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
        shutil.rmtree(var, ignore_errors=True)
    print(f"{'users':>6} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")
    for row in rows:
        print(f"{row['users']:>6} {row['rps']:>8.1f} {row['p50_ms']:>8.1f} {row['p99_ms']:>8.1f}"
              f" {row['errors']:>7}")
    good = [r for r in rows if r["p99_ms"] < 200 and r["errors"] == 0]
    best = max(good, key=lambda r: r["users"]) if good else None
    print(json.dumps({"rows": rows, "max_users_p99_under_200ms": best and best["users"],
                      "rps_at_that_load": best and best["rps"]}))


if __name__ == "__main__":
    main()
