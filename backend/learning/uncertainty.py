"""Active learning: how unsure an engine is on a series nobody has annotated yet, so the
worklist can offer the series where a clinician's time teaches the model most.

Without a user's prompt the key slice is the middle one and the box the body's extent on
it (everything above -500 HU on CT, above the 10th percentile elsewhere). Confidence is the
lower of the predicted IoU and the mean Dice of runs with the box moved within the entry's
tolerance (the same agreement measure results are flagged with).
"""
import numpy as np
from django.db.models import Exists, OuterRef

from annotations.models import Result, ResultState
from imaging.models import Series
from model.protocol import window_tuple

from .models import UncertaintyScore

SAMPLES = 4


def unannotated_series(site, structure_key: str, modality: str):
    confirmed = Result.objects.filter(series=OuterRef("pk"), structure_key=structure_key,
                                      state=ResultState.CONFIRMED)
    return Series.objects.filter(study__patient__site=site, modality__iexact=modality).exclude(
        Exists(confirmed)).order_by("pk")


def body_box(image: np.ndarray, modality: str) -> tuple[float, float, float, float] | None:
    threshold = -500.0 if modality.upper() == "CT" else float(np.percentile(image, 10))
    body = image > threshold
    if not body.any():
        return None
    rows, cols = np.flatnonzero(body.any(1)), np.flatnonzero(body.any(0))
    return float(cols[0]), float(rows[0]), float(cols[-1]), float(rows[-1])


def measure(engine, voxels: np.ndarray, spacing_yx, content: dict, modality: str) -> dict:
    """Confidence and its parts on the middle slice of a (slices, rows, cols) volume."""
    from model.postprocess import dice
    from model.preprocess import normalise_intensity
    from model.training.prompts import BoxTolerance

    key = voxels.shape[0] // 2
    box = body_box(voxels[key], modality)
    if box is None or box[2] <= box[0] or box[3] <= box[1]:
        return {"confidence": 0.0, "slice": key, "reason": "no body found on the key slice"}
    handle = engine.embed_slice(normalise_intensity(voxels[key], modality,
                                                    window_tuple(content)))
    baseline = engine.predict_2d(handle, box=box)
    tolerance = BoxTolerance(**content.get("interaction", {}).get(
        "tolerance", {"value": 0, "unit": "px"}))
    dx, dy = tolerance.in_pixels(box, spacing_yx)
    rng = np.random.default_rng(key)
    rows, cols = voxels.shape[1:]
    agreement = []
    for _ in range(SAMPLES):
        x0, y0, x1, y1 = np.asarray(box) + rng.uniform(-1, 1, 4) * [dx, dy, dx, dy]
        moved = (max(0.0, x0), max(0.0, y0), min(cols - 1.0, x1), min(rows - 1.0, y1))
        agreement.append(dice(engine.predict_2d(handle, box=moved).mask, baseline.mask))
    confidence = min(baseline.iou, float(np.mean(agreement)))
    return {"confidence": round(float(confidence), 4), "slice": key, "box": list(box),
            "predicted_iou": round(baseline.iou, 4),
            "agreement": [round(a, 4) for a in agreement]}


def score_series(site, prompt_version, engine_loader, volume_loader, limit: int = 20) -> int:
    """Score up to ``limit`` unannotated series not yet scored by the entry's engine."""
    content = prompt_version.content
    engine = engine_loader(content["engine"]["name"])
    entry = prompt_version.entry
    done = 0
    for series in unannotated_series(site, entry.key, entry.modality):
        if done >= limit:
            break
        if UncertaintyScore.objects.filter(series=series, structure_key=entry.key,
                                           engine=engine.name,
                                           weights_sha256=engine.weights_sha256).exists():
            continue
        volume = volume_loader(series)
        details = measure(engine, volume.voxels, (volume.spacing[1], volume.spacing[0]),
                          content, series.modality or entry.modality)
        UncertaintyScore.objects.update_or_create(
            series=series, structure_key=entry.key, engine=engine.name,
            weights_sha256=engine.weights_sha256,
            defaults={"confidence": details["confidence"], "details": details})
        done += 1
    return done


def ordered(site, prompt_version) -> list[dict]:
    """Unannotated series of the entry, least confident first; unscored ones last."""
    entry, engine = prompt_version.entry, prompt_version.content["engine"]
    scores = {s.series_id: s for s in UncertaintyScore.objects.filter(
        structure_key=entry.key, engine=engine["name"],
        weights_sha256=engine["weights_sha256"])}
    rows = []
    for series in unannotated_series(site, entry.key, entry.modality):
        score = scores.get(series.pk)
        rows.append({"series": series.pk, "series_instance_uid": series.series_instance_uid,
                     "confidence": None if score is None else score.confidence,
                     "details": {} if score is None else score.details})
    return sorted(rows, key=lambda r: (r["confidence"] is None, r["confidence"] or 0.0,
                                       r["series"]))
