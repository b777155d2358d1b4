import os
import subprocess
import sys

import pytest
from django.conf import settings

PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "config.settings.production",
    "DJANGO_SECRET_KEY": "k" * 20 + "Zq8#vT2@pL9!mW4$rX7^bN1&cY6*dE3(fG5)hJ0" + "x" * 11,
    "DJANGO_ALLOWED_HOSTS": "annotate.hospital.example",
    "MEDSAM_AUDIT_KEY": "a" * 10 + "Zq8#vT2@pL9!mW4$rX7^bN1&cY6*dE3",
}


def manage(*args, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=settings.REPO_ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_settings_pass_the_deployment_checklist():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret():
    env = {**PRODUCTION_ENV, "DJANGO_SECRET_KEY": ""}
    result = manage("check", env=env)
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in result.stderr


@pytest.mark.parametrize("audit_key", ["", "too-short", PRODUCTION_ENV["DJANGO_SECRET_KEY"]])
def test_production_refuses_to_start_without_its_own_audit_key(audit_key):
    result = manage("check", env={**PRODUCTION_ENV, "MEDSAM_AUDIT_KEY": audit_key})
    assert result.returncode != 0
    assert "MEDSAM_AUDIT_KEY" in result.stderr


def test_production_refuses_to_start_without_allowed_hosts():
    env = {**PRODUCTION_ENV, "DJANGO_ALLOWED_HOSTS": ""}
    result = manage("check", env=env)
    assert result.returncode != 0
    assert "DJANGO_ALLOWED_HOSTS" in result.stderr


def test_nothing_runs_celery_tasks_eagerly():
    assert settings.CELERY_TASK_ALWAYS_EAGER is False
    assert settings.CELERY_TASK_ACKS_LATE is True
    assert settings.CELERY_WORKER_PREFETCH_MULTIPLIER == 1
