"""Training sets: confirmed results only, split by patient, frozen once used, and the split
kept for patients already placed when a later set is drawn."""
import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from audit.models import AuditEntry
from learning.actions import do_cancel_training, do_create_training_set, do_start_training
from learning.models import ModelVersion, TrainingStatus


def sides(training_set) -> dict:
    return dict(training_set.members.values_list("patient_id", "side"))


def test_it_splits_confirmed_results_by_patient(skull_results, users, sites):
    training_set = do_create_training_set(users["prompt_admin"], sites["home"], "skull-ct", "CT",
                                          validation_fraction=0.34)
    split = sides(training_set)
    assert sorted(split) == ["SKULL-A", "SKULL-B", "SKULL-C"]
    assert set(split.values()) == {"train", "validation"}
    assert training_set.members.count() == 3
    assert AuditEntry.objects.filter(action="learning.set.create").count() == 1


def test_it_keeps_every_patient_on_their_side_in_later_sets(skull_results, users, sites):
    first = do_create_training_set(users["prompt_admin"], sites["home"], "skull-ct", "CT",
                                   validation_fraction=0.34)
    again = do_create_training_set(users["prompt_admin"], sites["home"], "skull-ct", "CT",
                                   validation_fraction=0.9)
    assert sides(again) == sides(first)


def test_it_draws_only_results_that_passed_qa_when_asked(skull_results, users, sites):
    with pytest.raises(ValidationError, match="0 confirmed result"):
        do_create_training_set(users["prompt_admin"], sites["home"], "skull-ct", "CT",
                               qa_passed_only=True)


def test_it_refuses_annotators_and_other_sites(skull_results, users, sites):
    with pytest.raises(PermissionDenied):
        do_create_training_set(users["annotator"], sites["home"], "skull-ct", "CT")
    with pytest.raises(PermissionDenied):
        do_create_training_set(users["prompt_admin_outsider"], sites["home"], "skull-ct", "CT")


def test_starting_a_fine_tune_freezes_the_set_and_cancel_stores_nothing(
        skull_results, users, sites):
    training_set = do_create_training_set(users["prompt_admin"], sites["home"], "skull-ct", "CT")
    job = do_start_training(users["prompt_admin"], training_set, config={"epochs": 2})
    training_set.refresh_from_db()
    assert training_set.frozen_at is not None
    assert job.config["epochs"] == 2 and job.config["seed"] == 0
    job = do_cancel_training(users["prompt_admin"], job, "wrong set")
    assert job.status == TrainingStatus.CANCELLED
    assert not ModelVersion.objects.exists()
    with pytest.raises(ValidationError, match="Unknown settings"):
        do_start_training(users["prompt_admin"], training_set, config={"epoch": 2})


def test_the_api_creates_sets_and_refuses_annotators(skull_results, api_as):
    response = api_as("prompt_admin").post("/api/v1/learning/sets",
                                           {"structure_key": "skull-ct", "modality": "CT"},
                                           format="json")
    assert response.status_code == 201, response.json()
    assert len(response.json()["members"]) == 3
    refused = api_as("annotator").post("/api/v1/learning/sets",
                                       {"structure_key": "skull-ct", "modality": "CT"},
                                       format="json")
    assert refused.status_code == 403


@pytest.mark.parametrize("path, body, field", [
    ("/api/v1/learning/sets", {"structure_key": "skull-ct", "modality": "CT",
                               "validation_fraction": "abc"}, "validation_fraction"),
    ("/api/v1/learning/sets", {"structure_key": "skull-ct", "modality": "CT",
                               "validation_fraction": [1]}, "validation_fraction"),
    ("/api/v1/learning/sets", {"structure_key": "skull-ct", "modality": "CT",
                               "validation_fraction": 7}, "validation_fraction"),
    ("/api/v1/learning/sets", {"modality": "CT"}, "structure_key"),
    ("/api/v1/learning/sets", {"structure_key": ["x"], "modality": "CT"}, "structure_key"),
    ("/api/v1/learning/jobs", {"training_set": "abc"}, "training_set"),
    ("/api/v1/learning/jobs", {"training_set": 1, "config": "fast"}, "config"),
])
def test_malformed_requests_get_400_naming_the_field(skull_results, api_as, path, body, field):
    from learning.models import TrainingJob, TrainingSet

    before = (TrainingSet.objects.count(), TrainingJob.objects.count())
    response = api_as("prompt_admin").post(path, body, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json(), response.json()
    assert (TrainingSet.objects.count(), TrainingJob.objects.count()) == before
