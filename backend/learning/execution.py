"""Running a claimed fine-tune on a worker: examples from the frozen set, embeddings with
the frozen encoder, Dice before, training, Dice after (fp32 and int8), robustness, then the
weights written atomically and the version registered in one transaction. A cancelled or
failed run leaves no file and no version."""
import time
from pathlib import Path

from annotations.provenance import code_version

from . import actions
from .engines import models_folder
from .examples import build_examples
from .models import TrainingJob
from .progress import JobProgress


class PermanentTrainingError(Exception):
    """Retrying cannot help; the message says why."""


def _config(job: TrainingJob, content: dict):
    from model.training.finetune import FineTuneConfig
    from model.training.prompts import BoxTolerance

    values = {k: v for k, v in job.config.items() if k != "max_slices_per_result"}
    tolerance = content.get("interaction", {}).get("tolerance") or {"value": 0, "unit": "px"}
    return FineTuneConfig.from_dict({**values, "tolerance": tolerance}), BoxTolerance(**tolerance)


def _report(before, after, before_int8, after_int8, fit) -> dict:
    summary = {
        "dice_before": before.as_dict()["dice_mean"],
        "dice_after": after.as_dict()["dice_mean"],
        "int8_dice_before": before_int8.as_dict()["dice_mean"],
        "int8_dice_after": after_int8.as_dict()["dice_mean"],
        "robustness_before": before.as_dict().get("robustness", {}).get("dice_mean"),
        "robustness_after": after.as_dict().get("robustness", {}).get("dice_mean"),
    }
    summary["improved"] = summary["dice_after"] > summary["dice_before"]
    return {
        "summary": summary,
        "fp32": {"before": before.as_dict(), "after": after.as_dict()},
        "int8": {"before": before_int8.as_dict(), "after": after_int8.as_dict()},
        "training": {"epoch_losses": fit.epoch_losses, "steps": fit.steps,
                     "seconds": fit.seconds, "trained_modules": fit.trained_modules},
    }


def run(job: TrainingJob, engine_loader, volume_loader):
    """Run a claimed training job; return the model version, or None when cancelled."""
    from model.engines.finetuned import engine_names
    from model.training.checkpoint import load_trainable, save_state_dict
    from model.training.embedded import TrainingCancelled, embed_examples
    from model.training.evaluate import evaluate
    from model.training.examples import data_sha256
    from model.training.finetune import fine_tune
    from model.weights import LITEMEDSAM_WEIGHTS, verified_path

    started = time.monotonic()
    tracker = JobProgress(job)
    training_set = job.training_set
    tracker.stage("loading")
    train, validation, content = build_examples(
        training_set, job.config["max_slices_per_result"], volume_loader)
    if not train or not validation:
        raise PermanentTrainingError(
            f"The set gives {len(train)} training and {len(validation)} validation slices; "
            "both sides need confirmed masks that fit their series.")
    config, tolerance = _config(job, content)
    base = engine_loader(job.base_engine)
    int8 = engine_loader(f"{job.base_engine}-int8")
    try:
        tracker.stage("embedding")
        def encode(image):
            return base.embed_slice(image).embedding

        embedded_train = embed_examples(encode, train, tracker.report, tracker.cancelled)
        embedded_validation = embed_examples(encode, validation, tracker.report,
                                             tracker.cancelled)
        int8_validation = embed_examples(lambda image: int8.embed_slice(image).embedding,
                                         validation, tracker.report,
                                         tracker.cancelled)
        network = load_trainable(verified_path(LITEMEDSAM_WEIGHTS))
        tracker.stage("evaluating")
        before = evaluate(network, embedded_validation, tolerance, seed=config.seed)
        before_int8 = evaluate(network, int8_validation)
        tracker.stage("training")
        fit = fine_tune(network, embedded_train, config, tracker.report, tracker.cancelled)
        tracker.stage("evaluating")
        after = evaluate(network, embedded_validation, tolerance, seed=config.seed)
        after_int8 = evaluate(network, int8_validation)
    except TrainingCancelled:
        return None
    if tracker.cancelled(force=True):
        return None
    tracker.stage("saving")
    path, sha256 = save_state_dict(network, models_folder())
    fp32_name, int8_name = engine_names(sha256)
    report = _report(before, after, before_int8, after_int8, fit)
    report["split"] = {"train_slices": len(train), "validation_slices": len(validation),
                       "train_patients": sorted({e.group for e in train}),
                       "validation_patients": sorted({e.group for e in validation})}
    report["seconds"] = round(time.monotonic() - started, 1)
    fields = {
        "weights_sha256": sha256, "engine_name": fp32_name, "int8_engine_name": int8_name,
        "label": f"{training_set.structure_key} {training_set.modality} set {training_set.pk}",
        "site": training_set.site, "structure_key": training_set.structure_key,
        "modality": training_set.modality, "base_engine": job.base_engine,
        "base_weights_sha256": base.weights_sha256, "training_set": training_set,
        "data_sha256": data_sha256(train + validation),
        "hyperparameters": {**job.config, "tolerance": tolerance.__dict__},
        "code_version": code_version(), "validation": report,
    }
    try:
        version = actions.do_store_model_version(job, fields)
    except BaseException:
        _discard(path, sha256)
        raise
    if version is None or version.weights_sha256 != sha256:
        _discard(path, sha256)
    return version


def _discard(path: Path, sha256: str) -> None:
    """Remove weights no stored version refers to (a cancel won the race, or a failure)."""
    from .models import ModelVersion

    if not ModelVersion.objects.filter(weights_sha256=sha256).exists():
        Path(path).unlink(missing_ok=True)
