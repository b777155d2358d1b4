"""/metrics in production settings (issue 20): never open without a token. With
MEDSAM_METRICS_TOKEN unset every scrape is refused; with it set, only a scrape sending it is
answered."""
import json
import os
import subprocess
import sys

from django.conf import settings

PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "config.settings.production",
    "DJANGO_SECRET_KEY": "k" * 20 + "Zq8#vT2@pL9!mW4$rX7^bN1&cY6*dE3(fG5)hJ0" + "x" * 11,
    "DJANGO_ALLOWED_HOSTS": "annotate.hospital.example",
    "MEDSAM_AUDIT_KEY": "a" * 10 + "Zq8#vT2@pL9!mW4$rX7^bN1&cY6*dE3",
}

SCRAPE = """
import json
from django.test import Client
client = Client(HTTP_HOST="annotate.hospital.example")
statuses = {}
for name, headers in [("none", {}), ("empty", {"HTTP_AUTHORIZATION": "Bearer "}),
                      ("guess", {"HTTP_AUTHORIZATION": "Bearer s3cret"})]:
    statuses[name] = client.get("/metrics", secure=True, **headers).status_code
print(json.dumps(statuses))
"""


def scrape_statuses(**env) -> dict:
    environment = {k: v for k, v in os.environ.items() if k != "MEDSAM_METRICS_TOKEN"}
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", SCRAPE],
        cwd=settings.REPO_ROOT, env={**environment, **PRODUCTION_ENV, **env},
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_production_without_a_metrics_token_refuses_every_scrape():
    statuses = scrape_statuses()
    assert statuses == {"none": 401, "empty": 401, "guess": 401}


def test_production_with_a_metrics_token_refuses_scrapes_without_it():
    statuses = scrape_statuses(MEDSAM_METRICS_TOKEN="the-real-scrape-token-0123456789")
    assert statuses == {"none": 401, "empty": 401, "guess": 401}
