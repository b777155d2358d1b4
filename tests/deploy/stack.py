"""A deployment on loopback: a private Redis broker, a database of its own, the web tier under
gunicorn with the image's configuration, and worker processes, each a real process."""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import requests

from core import processes
from tests.worker import WORKER_TIMING, redis_answers, wait_until

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(predicate, timeout: float, what: str, interval: float = 0.2, details=None):
    return wait_until(predicate, timeout, interval, what=what, details=details)


def answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).status_code == 200
    except requests.RequestException:
        return False


class Stack:
    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.children: list[subprocess.Popen] = []
        self.workers: dict[str, subprocess.Popen] = {}
        self.worker_ports: dict[str, int] = {}
        self.database_url, self._drop_database = self._database()
        self.redis_port = free_port()
        self.web_port = free_port()
        self.env = {
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "DATABASE_URL": self.database_url,
            "CELERY_BROKER_URL": f"redis://127.0.0.1:{self.redis_port}/0",
            "MEDSAM_MEDIA_ROOT": str(tmp / "media"),
            "MEDSAM_LOG_FORMAT": "json",
            "MEDSAM_ACCESS_LOG": "true",
            "PYTHONPATH": f"{REPO / 'backend'}:{REPO}",
            **WORKER_TIMING,
        }

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    def _database(self):
        base = os.environ.get("DATABASE_URL", "")
        if not base.startswith("postgres"):
            return f"sqlite:///{self.tmp / 'stack.sqlite3'}", None
        import psycopg

        name = f"medsam_stack_{uuid.uuid4().hex[:10]}"
        admin_url = base.rsplit("/", 1)[0] + "/postgres"
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')

        def drop():
            with psycopg.connect(admin_url, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

        return base.rsplit("/", 1)[0] + f"/{name}", drop

    def _environment(self, **extra) -> dict:
        env = {**os.environ, **self.env, **extra}
        for leaked in ("MEDSAM_TEST_DB_NAME", "MEDSAM_BROKER_DIR"):
            env.pop(leaked, None)
        return env

    def _spawn(self, command: list, log: str, **extra) -> subprocess.Popen:
        with open(self.tmp / log, "ab") as out:
            proc = subprocess.Popen(command, cwd=REPO, env=self._environment(**extra),
                                    stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        self.children.append(proc)
        return proc

    def start_broker(self) -> None:
        server = shutil.which("redis-server")
        if server is None:
            message = "redis-server is not installed (Debian: redis-server)"
            pytest.fail(message) if os.environ.get("CI") else pytest.skip(message)
        self._spawn([server, "--bind", "127.0.0.1", "--port", str(self.redis_port),
                     "--save", "", "--appendonly", "no", "--dir", str(self.tmp)], "redis.log")
        wait_for(lambda: self._redis_ping(), 20, "redis did not answer")

    def _redis_ping(self) -> bool:
        return redis_answers(self.redis_port)

    def seed(self) -> dict:
        done = subprocess.run([sys.executable, "-m", "tests.deploy.seed_stack"], cwd=REPO,
                              env=self._environment(), capture_output=True, text=True,
                              timeout=600)
        assert done.returncode == 0, done.stderr[-4000:]
        line = next(x for x in done.stdout.splitlines() if x.startswith("SEED "))
        return json.loads(line.removeprefix("SEED "))

    def start_web(self) -> None:
        self._spawn(
            [sys.executable, "-m", "gunicorn", "--config", "deploy/docker/gunicorn.conf.py",
             "config.wsgi:application"],
            "web.log",
            MEDSAM_WEB_BIND=f"127.0.0.1:{self.web_port}",
            MEDSAM_WEB_WORKERS="2",
            MEDSAM_SERVICE="web",
            PROMETHEUS_MULTIPROC_DIR=str(self.tmp / "prometheus"),
        )
        wait_for(lambda: answers(f"{self.url}/readyz"), 120, "the web tier was not ready")

    def start_worker(self, name: str, queues: list[str]) -> str:
        """Start a worker bound to ``queues``; returns its Celery hostname."""
        port = free_port()
        hostname = f"{name}-{os.getpid()}@localhost"
        proc = self._spawn(processes.celery_worker_command(hostname, queues), f"{name}.log",
                           MEDSAM_WORKER_HTTP_PORT=str(port), MEDSAM_SERVICE=name)
        self.workers[name], self.worker_ports[name] = proc, port
        wait_for(lambda: answers(self.worker_url(name, "/readyz")) or proc.poll() is not None,
                 180, f"worker {name} was not ready",
                 details=lambda: self.logs()[f"{name}.log"][-3000:])
        assert proc.poll() is None, self.logs()[f"{name}.log"][-3000:]
        return hostname

    def kill9(self, name: str) -> None:
        """Kill a worker as a crash would: no warm shutdown, no acknowledgement."""
        proc = self.workers[name]
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()

    def worker_url(self, name: str, path: str) -> str:
        return f"http://127.0.0.1:{self.worker_ports[name]}{path}"

    def manage(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "manage.py", *args], cwd=REPO,
                              env=self._environment(), capture_output=True, text=True,
                              timeout=300)

    def logs(self) -> dict[str, str]:
        return {p.name: p.read_text(errors="replace") for p in self.tmp.glob("*.log")}

    def stop(self) -> None:
        processes.stop(self.children)
        if self._drop_database:
            self._drop_database()


class Client:
    """A signed-in browser session against the web tier (session cookie and CSRF token)."""

    def __init__(self, base: str, username: str, password: str) -> None:
        self.base = base
        self.http = requests.Session()
        self.http.get(f"{base}/accounts/login/", timeout=10)
        response = self.http.post(
            f"{base}/accounts/login/",
            data={"username": username, "password": password,
                  "csrfmiddlewaretoken": self.http.cookies["csrftoken"]},
            allow_redirects=False, timeout=10,
        )
        assert response.status_code == 302, response.text[-2000:]

    def get(self, path: str):
        response = self.http.get(self.base + path, timeout=30)
        assert response.status_code == 200, response.text[-2000:]
        return response.json()

    def post(self, path: str, body: dict):
        return self.http.post(self.base + path, json=body, timeout=60,
                              headers={"X-CSRFToken": self.http.cookies["csrftoken"]})
