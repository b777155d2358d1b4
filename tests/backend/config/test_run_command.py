"""The Quick start's run command (``manage.py serve``): the whole application in processes
of its own, on the embedded default, stopped by Ctrl-C."""
import json
import os
import re
import signal
import subprocess
import sys

from django.conf import settings

from tests.serve_process import child_pids, free_port, get, wait_for


def sign_in(base: str, username: str, password: str) -> str:
    """Sign in through the login form like a browser; return the page it lands on."""
    import http.cookiejar
    import urllib.parse

    opener = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
    )
    page = opener.open(f"{base}/accounts/login/", timeout=10).read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    form = urllib.parse.urlencode(
        {"csrfmiddlewaretoken": token, "username": username, "password": password}
    ).encode()
    request = urllib.request.Request(
        f"{base}/accounts/login/", data=form, headers={"Referer": f"{base}/accounts/login/"}
    )
    with opener.open(request, timeout=10) as response:
        return response.geturl()


def test_it_runs_web_and_worker_on_the_embedded_default_and_stops_on_ctrl_c(tmp_path):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "MEDSAM_VAR_DIR": str(tmp_path),
        "MEDSAM_WORKER_HEARTBEAT_SECONDS": "1",
    }
    for name in ("DATABASE_URL", "CELERY_BROKER_URL", "MEDSAM_BROKER_DIR", "MEDSAM_TEST_DB_NAME"):
        env.pop(name, None)
    manage = [sys.executable, "manage.py"]
    subprocess.run(
        [*manage, "migrate", "--noinput"], cwd=settings.REPO_ROOT, env=env, check=True,
        capture_output=True, timeout=300,
    )
    port = free_port()
    log = tmp_path / "serve.log"
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [*manage, "serve", "--port", str(port)],
            cwd=settings.REPO_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: get(f"{base}/accounts/login/")[0] == 200, 90, proc, log)
        status, body = get(f"{base}/accounts/login/")
        assert b"Sign in" in body

        def worker_alive():
            status, body = get(f"{base}/healthz")
            return status == 200 and json.loads(body)["workers"]

        wait_for(worker_alive, 90, proc, log)
        health = json.loads(get(f"{base}/healthz")[1])
        assert health["status"] == "ok"
        assert health["database"]["vendor"] == "sqlite"
        assert (tmp_path / "db.sqlite3").exists()

        output = log.read_text()
        assert f"running at {base}/" in output
        # Each demo user's generated password is printed once, and it works.
        match = re.search(r"^\s+annotator\s+(\S+)\s+annotator$", output, re.MULTILINE)
        assert match, output
        assert sign_in(base, "annotator", match.group(1)) == f"{base}/"
        # Request lines name the route, never the query string or the concrete path.
        get(f"{base}/worklist/?q=HOSP-SECRET-4242")
        get(f"{base}/accounts/login/?next=/worklist/%3Fq%3DHOSP-SECRET-4242")
        wait_for(lambda: "medsam.access GET" in log.read_text(), 10, proc, log)
        assert "HOSP-SECRET-4242" not in log.read_text()

        # A crashed model worker is started again; the web server stays up meanwhile.
        crashed = child_pids(proc.pid, "models@")
        assert len(crashed) == 1, crashed
        os.kill(crashed[0], signal.SIGKILL)
        wait_for(lambda: "model worker exited with code -9" in log.read_text(), 30, proc, log)
        assert get(f"{base}/accounts/login/")[0] == 200
        wait_for(lambda: child_pids(proc.pid, "models@") not in ([], crashed), 60, proc, log)
        assert "Starting model worker again (restart 1)" in log.read_text()
        wait_for(lambda: "ready" in log.read_text().rsplit("Starting model worker again", 1)[1],
                 90, proc, log)
        # Its first heartbeat follows "ready" once it has listed its engines.
        wait_for(lambda: json.loads(get(f"{base}/healthz")[1])["unserved_queues"] == [],
                 60, proc, log)
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)
    assert "Stopped." in log.read_text()
    assert get(f"{base}/healthz")[0] is None
