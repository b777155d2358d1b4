"""A fine-tune end to end on a real worker: confirmed skull masks of the real head CT in, a
new engine version with its validation report out; refused for use until a second prompt
administrator approves an entry version pinned to it; rollback by approving the previous
content again; a cancelled fine-tune leaves no version and no file."""
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError

from audit.models import AuditEntry
from learning.models import ModelVersion, TrainingJob, TrainingStatus
from prompts.actions.versions import (
    PromptActionRefused,
    do_approve,
    do_create_draft,
    do_submit,
    do_update_draft,
)
from tests.conftest import PASSWORD
from tests.worker import wait_until

pytestmark = pytest.mark.django_db(transaction=True)

SMALL = {"epochs": 8, "batch_size": 4, "learning_rate": 5e-4, "max_slices_per_result": 2}


def start(client, config) -> str:
    created = client.post("/api/v1/learning/sets", {"structure_key": "skull-ct",
                                                      "modality": "CT",
                                                      "validation_fraction": 0.34},
                          format="json")
    assert created.status_code == 201, created.json()
    job = client.post("/api/v1/learning/jobs", {"training_set": created.json()["id"],
                                                 "config": config}, format="json")
    assert job.status_code == 201, job.json()
    return job.json()["public_id"]


def finished(public_id):
    job = TrainingJob.objects.get(public_id=public_id)
    return job if job.finished else None


def models_folder_files() -> list[str]:
    folder = Path(settings.MEDIA_ROOT) / "models"
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def pin_to(actor, active, engine_name, sha256):
    draft = do_create_draft(actor, active)
    content = {**draft.content, "engine": {"name": engine_name, "weights_sha256": sha256}}
    return do_submit(actor, do_update_draft(actor, draft, content))


def test_a_fine_tune_registers_a_validated_version_used_only_after_approval(
        api_as, users, skull_entry, skull_results, celery_worker):
    from annotations.actions import do_submit_job
    from model.engines.registry import list_engines

    client = api_as("prompt_admin")
    public_id = start(client, SMALL)
    job = wait_until(lambda: finished(public_id), timeout=1200, interval=1)
    assert job.status == TrainingStatus.SUCCEEDED, job.error
    version = job.model_version
    summary = version.validation["summary"]
    assert summary["dice_after"] > summary["dice_before"] + 0.2
    assert summary["int8_dice_after"] > summary["int8_dice_before"] + 0.2
    assert version.validation["split"]["validation_patients"] and not (
        set(version.validation["split"]["train_patients"])
        & set(version.validation["split"]["validation_patients"]))
    assert version.hyperparameters["seed"] == 0 and len(version.data_sha256) == 64
    files = models_folder_files()
    assert f"{version.weights_sha256}.pth" in files
    assert not [name for name in files if name.startswith(".partial")]
    engines = {info.name: info for info in list_engines()}
    assert engines[version.engine_name].weights_sha256 == version.weights_sha256
    assert engines[version.int8_engine_name].available

    # Refused for use until a second administrator approves an entry pinned to it.
    candidate = pin_to(users["prompt_admin"], skull_entry, version.engine_name,
                       version.weights_sha256)
    series = skull_results[0].series
    with pytest.raises(ValidationError, match="Only approved prompt versions"):
        do_submit_job(users["annotator"], series, candidate,
                      {"prompts": [{"slice": 4, "box": [40, 40, 200, 200]}]})
    with pytest.raises(PromptActionRefused):
        do_approve(users["prompt_admin"], candidate, password=PASSWORD)
    approved = do_approve(users["prompt_admin_member"], candidate, password=PASSWORD)
    assert approved.entry.active_version.content["engine"]["name"] == version.engine_name

    # Rolling back is approving the previous content again.
    rollback = pin_to(users["prompt_admin"], approved, "litemedsam",
                      skull_entry.content["engine"]["weights_sha256"])
    do_approve(users["prompt_admin_member"], rollback, password=PASSWORD)
    assert approved.entry.active_version.content["engine"] == skull_entry.content["engine"]

    actions = set(AuditEntry.objects.values_list("action", flat=True))
    assert {"learning.set.create", "learning.train.submit", "learning.train.start",
            "learning.model.register", "learning.train.succeeded"} <= actions
    page = api_as("prompt_admin").get("/api/v1/learning/models").json()
    assert page[0]["engine_name"] == version.engine_name


def test_a_cancelled_fine_tune_leaves_no_version_and_no_file(
        api_as, skull_results, celery_worker):
    client = api_as("prompt_admin")
    files_before = models_folder_files()
    public_id = start(client, {**SMALL, "epochs": 50})
    wait_until(lambda: TrainingJob.objects.filter(public_id=public_id, status="running",
                                                  stage="training").exists(),
               timeout=900, interval=0.5)
    response = client.post(f"/api/v1/learning/jobs/{public_id}/cancel", {"reason": "test"},
                           format="json")
    assert response.status_code == 200, response.json()
    job = wait_until(lambda: finished(public_id), timeout=300, interval=0.5)
    assert job.status == TrainingStatus.CANCELLED
    assert job.model_version is None and not ModelVersion.objects.exists()
    assert models_folder_files() == files_before
