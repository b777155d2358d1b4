"""Soak of the embedded default as ``./scripts/run.sh`` starts it (``manage.py serve``: SQLite,
the file-system broker, a model worker, a task worker and the web server, in a folder of their
own): 300 jobs, 2D and 3D on a real abdominal CT, sent through the HTTP API by four clients at
once. Midway the model worker is killed with SIGKILL, and an empty and a truncated message file
are planted in the queue. Every job must still finish exactly once (one result, one "finished"
audit entry), none lost; serve stays up throughout; the audit chain verifies afterwards."""
import http.cookiejar
import json
import os
import signal
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path

from django.conf import settings

from tests.serve_process import child_pids, free_port, get, wait_for

JOBS = 300
CLIENTS = 4
KILL_AFTER = 100
SCRIPT = Path(__file__).with_name("soak_site.py")


class Client:
    """One API client with its own session, signed in the way the viewer signs in."""

    def __init__(self, base: str, username: str, password: str):
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        self.call("GET", "/api/v1/accounts/session")
        self.call("POST", "/api/v1/accounts/session",
                  {"username": username, "password": password})

    def csrf(self) -> str:
        return next((c.value for c in self.jar if c.name == "csrftoken"), "")

    def call(self, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
        request = urllib.request.Request(
            self.base + path, method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Content-Type": "application/json", "X-CSRFToken": self.csrf(),
                     "Referer": self.base + "/"},
        )
        try:
            with self.opener.open(request, timeout=60) as response:
                return response.status, json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as error:
            raise AssertionError(f"{method} {path}: {error.code} {error.read()[:500]!r}") from None


def plant_broken_messages(broker: Path) -> list[str]:
    """An empty file and a truncated JSON message, named as the transport names messages."""
    queue = broker / "queue"
    planted = {f"00000000000000001_planted-empty.{name}.msg": b"" for name in ("cpu", "gpu")}
    planted["00000000000000002_planted-partial.cpu.msg"] = b'{"body": "eyJ0YXNrIjog'
    for name, data in planted.items():
        (queue / name).write_bytes(data)
    return sorted(planted)


def test_300_jobs_survive_a_killed_worker_and_planted_messages(tmp_path):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "MEDSAM_VAR_DIR": str(tmp_path),
        "MEDSAM_WORKER_HEARTBEAT_SECONDS": "1",
        "MEDSAM_WORKER_STALE_SECONDS": "10",
        "MEDSAM_JOB_SWEEP_SECONDS": "5",
        "MEDSAM_JOB_REPUBLISH_AFTER": "30",
    }
    for name in ("DATABASE_URL", "CELERY_BROKER_URL", "MEDSAM_BROKER_DIR", "MEDSAM_TEST_DB_NAME"):
        env.pop(name, None)
    made = subprocess.run([sys.executable, str(SCRIPT), "setup"], cwd=settings.REPO_ROOT,
                          env=env, capture_output=True, text=True, timeout=600)
    assert made.returncode == 0, made.stderr
    site = json.loads(made.stdout.strip().splitlines()[-1])

    port = free_port()
    log = tmp_path / "serve.log"
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [sys.executable, "manage.py", "serve", "--no-seed", "--port", str(port)],
            cwd=settings.REPO_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    submitted: dict[int, str] = {}
    errors: list[str] = []
    lock = threading.Lock()
    try:
        def serving_with_workers():
            status, body = get(f"{base}/healthz")
            return status == 200 and not json.loads(body)["unserved_queues"]

        wait_for(serving_with_workers, 120, proc, log)
        killed = threading.Event()
        planted: list[str] = []

        def submit(worker_index: int):
            try:
                client = Client(base, site["username"], site["password"])
                for number in range(worker_index, JOBS, CLIENTS):
                    three_d = number % 3 == 0
                    nudge = 0.01 * number
                    geometry = {"prompts": [{"slice": 2 if three_d else 0,
                                             "box": [20 + nudge, 20.0, 100.0, 80.0]}]}
                    status, job = client.call("POST", "/api/v1/annotations/jobs", {
                        "series": site["series_3d" if three_d else "series_2d"],
                        "prompt_version": site["version"], "geometry": geometry,
                    })
                    assert status == 201, (status, job)
                    with lock:
                        submitted[number] = job["id"]
                        if len(submitted) == KILL_AFTER and not killed.is_set():
                            models = child_pids(proc.pid, "models@")
                            assert len(models) == 1, models
                            os.kill(models[0], signal.SIGKILL)
                            planted.extend(plant_broken_messages(tmp_path / "broker"))
                            killed.set()
            except Exception as exc:  # reported below, with the thread's index
                errors.append(f"client {worker_index}: {exc!r}")

        threads = [threading.Thread(target=submit, args=(i,)) for i in range(CLIENTS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=900)
        assert not errors, errors
        assert len(submitted) == JOBS and killed.is_set()

        watcher = Client(base, site["username"], site["password"])

        def all_finished():
            _, page = watcher.call("GET", "/api/v1/annotations/jobs?status=queued,running&limit=1")
            return page["count"] == 0

        wait_for(all_finished, 1200, proc, log)
        output = log.read_text()
        assert "model worker exited with code -9" in output
        assert "Starting model worker again" in output
        assert get(f"{base}/accounts/login/")[0] == 200, "serve stopped serving"
        assert json.loads(get(f"{base}/healthz")[1])["unserved_queues"] == []
        rejected = sorted(p.name for p in (tmp_path / "broker" / "rejected").iterdir())
        assert rejected == planted, rejected
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=120)

    reported = subprocess.run([sys.executable, str(SCRIPT), "report"], cwd=settings.REPO_ROOT,
                              env=env, capture_output=True, text=True, timeout=300)
    assert reported.returncode == 0, reported.stderr
    jobs = json.loads(reported.stdout.strip().splitlines()[-1])["jobs"]
    assert set(jobs) == set(submitted.values()), "jobs were lost or made up"
    wrong = {public_id: job for public_id, job in jobs.items()
             if job["status"] != "succeeded" or job["results"] != 1
             or job["finished_entries"] != 1}
    assert not wrong, f"{len(wrong)} jobs did not finish exactly once: {list(wrong.items())[:5]}"
    verified = subprocess.run([sys.executable, "manage.py", "audit_verify"],
                              cwd=settings.REPO_ROOT, env=env, capture_output=True, text=True,
                              timeout=600)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "chain intact" in verified.stdout
