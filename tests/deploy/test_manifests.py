"""The deployment files are checked by the tools their formats come with: hadolint for the
Dockerfile, the Compose specification's JSON schema, Kubernetes' own OpenAPI schemas (strict:
an unknown field fails), yamllint; and the environment template documents every setting."""
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
K8S_VERSION = "1.30.0"
MANIFESTS = sorted(p for p in (DEPLOY / "k8s").glob("*.yaml") if p.name != "kustomization.yaml")


def tool(name: str) -> str:
    """A linter installed beside this Python (from PyPI); skips without it, except under CI."""
    found = shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
    if found:
        return found
    message = f"{name} is not installed (see docs/deploy.md, 'Checking the files')"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def run(*command) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=120)


def test_the_dockerfile_passes_hadolint():
    done = run(tool("hadolint"), "--config", "deploy/docker/.hadolint.yaml",
               "deploy/docker/Dockerfile")
    assert done.returncode == 0, done.stdout + done.stderr


def test_hadolint_does_flag_a_bad_dockerfile(tmp_path):
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN cd /app && pip install torch\nCMD python app.py\n")
    done = run(tool("hadolint"), "--config", "deploy/docker/.hadolint.yaml", str(bad))
    assert done.returncode != 0
    assert "DL3007" in done.stdout  # the :latest tag


def test_the_compose_file_follows_the_compose_specification():
    done = run(tool("check-jsonschema"), "--builtin-schema", "vendor.compose-spec",
               "deploy/compose.yaml")
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_compose_file_runs_the_whole_stack_with_a_gpu_worker():
    services = yaml.safe_load((DEPLOY / "compose.yaml").read_text())["services"]
    assert {"postgres", "redis", "orthanc", "web", "nginx", "worker-cpu", "worker-gpu"} <= set(
        services
    )
    gpu = services["worker-gpu"]
    devices = gpu["deploy"]["resources"]["reservations"]["devices"]
    assert devices[0]["driver"] == "nvidia" and "gpu" in devices[0]["capabilities"]
    assert gpu["command"][gpu["command"].index("--queues") + 1] == "gpu"
    cpu = services["worker-cpu"]["command"]
    assert cpu[cpu.index("--queues") + 1] == "default,cpu"
    assert gpu["build"]["target"] == "worker-gpu"
    for name in ("web", "worker-cpu", "worker-gpu"):
        assert "media:/var/lib/medsam/media" in services[name]["volumes"]


@pytest.mark.parametrize("manifest", MANIFESTS, ids=lambda p: p.name)
def test_each_kubernetes_manifest_is_valid_for_kubernetes(manifest):
    done = run(tool("kubernetes-validate"), "--strict", "-k", K8S_VERSION, str(manifest))
    assert done.returncode == 0, done.stdout + done.stderr


def test_strict_validation_does_reject_an_unknown_field(tmp_path):
    broken = (DEPLOY / "k8s" / "web.yaml").read_text().replace("readinessProbe:", "readynessProbe:")
    (tmp_path / "web.yaml").write_text(broken)
    done = run(tool("kubernetes-validate"), "--strict", "-k", K8S_VERSION,
               str(tmp_path / "web.yaml"))
    assert done.returncode != 0


def test_kustomization_names_every_manifest_but_the_secret_example():
    listed = set(yaml.safe_load((DEPLOY / "k8s" / "kustomization.yaml").read_text())["resources"])
    assert listed == {p.name for p in MANIFESTS} - {"secret.example.yaml"}


def test_each_gpu_type_and_queue_is_its_own_deployment():
    workers = list(yaml.safe_load_all((DEPLOY / "k8s" / "workers.yaml").read_text()))
    by_name = {w["metadata"]["name"]: w["spec"]["template"]["spec"] for w in workers}
    queues = {}
    for name, pod in by_name.items():
        command = pod["containers"][0]["command"]
        queues[name] = command[command.index("--queues") + 1]
    assert queues["worker-default"] == "default" and queues["worker-cpu"] == "cpu"
    gpu_pools = {n: p for n, p in by_name.items() if queues[n] == "gpu"}
    products = {p["nodeSelector"]["nvidia.com/gpu.product"] for p in gpu_pools.values()}
    assert len(gpu_pools) >= 2 and len(products) == len(gpu_pools)
    for pod in gpu_pools.values():
        assert pod["containers"][0]["resources"]["limits"]["nvidia.com/gpu"] == 1
    for pod in by_name.values():
        probes = pod["containers"][0]
        assert probes["livenessProbe"]["httpGet"]["path"] == "/livez"
        assert probes["readinessProbe"]["httpGet"]["path"] == "/readyz"


def test_yamllint_is_clean():
    done = run(tool("yamllint"), "--strict", "-c", "deploy/.yamllint.yaml", "deploy/")
    assert done.returncode == 0, done.stdout + done.stderr


SETTING_READ = re.compile(
    r"""(?:environ(?:\.get)?\(\s*|environ\[\s*|env_(?:int|bool)\(\s*|_ENV\s*=\s*)f?["']"""
    r"""([A-Z][A-Z0-9_]+)"""
)
TEST_ONLY = {"MEDSAM_TEST_DB_NAME", "MEDSAM_BROKER_DIR"}  # config/settings/test.py


def settings_read_by_the_code() -> set[str]:
    sources = [*(REPO / "backend").rglob("*.py"), *(REPO / "model").rglob("*.py"),
               DEPLOY / "docker" / "gunicorn.conf.py"]
    names = set()
    for source in sources:
        names |= set(SETTING_READ.findall(source.read_text()))
    return names - TEST_ONLY


def test_the_environment_template_documents_every_setting():
    documented = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", (DEPLOY / "env.example").read_text(),
                                re.MULTILINE))
    read = settings_read_by_the_code()
    assert {"DATABASE_URL", "CELERY_BROKER_URL", "MEDSAM_MEDIA_STORAGE"} <= read
    missing = {
        name for name in read
        if name not in documented and not any(d.startswith(name) for d in documented)
    }
    assert not missing, f"add to deploy/env.example: {sorted(missing)}"
