"""Decoder fine-tune of LiteMedSAM on the skull ring of the real head CT (Debian
invesalius-examples): validation Dice before and after, fp32 and int8, robustness, timings.

Slabs of the volume stand in for patients: the training slabs and the validation slabs do
not overlap. The skull ring is a structure the released weights handle poorly (a box around
the head gives the inside), so the figures show what a site's confirmed masks can teach.

    .venv/bin/python bench/finetune_skull.py [--epochs 10] [--per-slab 3] [--seed 0] [--smoke]

--smoke: one training and one validation slab, one slice each, one epoch (seconds): the same
embedding, evaluation and fine-tune; exits non-zero when a figure is missing or not finite or
the training took no step.
"""
import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np
import torch
from scipy import ndimage

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from model.engines.registry import get_engine  # noqa: E402
from model.imaging.inv3 import DEBIAN_HEAD_CT, read_inv3  # noqa: E402
from model.preprocess import normalise_intensity  # noqa: E402
from model.training.checkpoint import load_trainable  # noqa: E402
from model.training.embedded import embed_examples  # noqa: E402
from model.training.evaluate import evaluate  # noqa: E402
from model.training.examples import TrainingExample  # noqa: E402
from model.training.finetune import FineTuneConfig, fine_tune  # noqa: E402
from model.training.prompts import BoxTolerance  # noqa: E402
from model.weights import LITEMEDSAM_WEIGHTS, verified_path  # noqa: E402

TRAIN_SLABS = ((40, 52), (64, 76), (88, 100))
VALIDATION_SLABS = ((54, 62), (78, 86))


def skull(hu_slice):
    bone = ndimage.binary_opening(hu_slice >= 250, iterations=1)
    labels, _ = ndimage.label(bone)
    sizes = np.bincount(labels.ravel())
    sizes[0] = 0
    return labels == sizes.argmax()


def examples(hu, spacing_yx, slabs, per_slab):
    picked = []
    for first, last in slabs:
        for index in np.linspace(first, last - 1, per_slab).round().astype(int):
            picked.append(TrainingExample(normalise_intensity(hu[index], "CT", (500, 2000)),
                                          skull(hu[index]), spacing_yx, f"slab {first}",
                                          f"slice {index}"))
    return picked


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--per-slab", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, seconds")
    args = parser.parse_args()
    train_slabs, validation_slabs = TRAIN_SLABS, VALIDATION_SLABS
    if args.smoke:
        args.epochs, args.per_slab = 1, 1
        train_slabs, validation_slabs = TRAIN_SLABS[1:2], VALIDATION_SLABS[:1]
    torch.set_num_threads(2)
    volume = read_inv3(DEBIAN_HEAD_CT)
    spacing_yx = (float(volume.spacing[1]), float(volume.spacing[0]))
    train = examples(volume.voxels, spacing_yx, train_slabs, args.per_slab)
    validation = examples(volume.voxels, spacing_yx, validation_slabs, args.per_slab)
    fp32, int8 = get_engine("litemedsam", "cpu"), get_engine("litemedsam-int8", "cpu")
    started = time.perf_counter()
    embedded_train = embed_examples(lambda i: fp32.embed_slice(i).embedding, train)
    embedded_validation = embed_examples(lambda i: fp32.embed_slice(i).embedding, validation)
    int8_validation = embed_examples(lambda i: int8.embed_slice(i).embedding, validation)
    embedding_seconds = time.perf_counter() - started
    tolerance = BoxTolerance(2, "mm")
    network = load_trainable(verified_path(LITEMEDSAM_WEIGHTS))
    before = evaluate(network, embedded_validation, tolerance).as_dict()
    before_int8 = evaluate(network, int8_validation).as_dict()
    config = FineTuneConfig(epochs=args.epochs, batch_size=4, learning_rate=3e-4,
                            seed=args.seed, tolerance=tolerance)
    report = fine_tune(network, embedded_train, config)
    after = evaluate(network, embedded_validation, tolerance).as_dict()
    after_int8 = evaluate(network, int8_validation).as_dict()
    figures = {
        "train_slices": len(train), "validation_slices": len(validation),
        "dice_fp32": [before["dice_mean"], after["dice_mean"]],
        "dice_int8": [before_int8["dice_mean"], after_int8["dice_mean"]],
        "robustness_fp32": [before["robustness"]["dice_mean"],
                            after["robustness"]["dice_mean"]],
        "predicted_iou": [before["predicted_iou_mean"], after["predicted_iou_mean"]],
        "embedding_seconds": round(embedding_seconds, 1), "training_seconds": report.seconds,
        "steps": report.steps, "epoch_losses": report.epoch_losses,
    }
    print(json.dumps(figures, indent=2))
    values = [*figures["dice_fp32"], *figures["dice_int8"], *figures["robustness_fp32"],
              *figures["predicted_iou"], *figures["epoch_losses"]]
    if report.steps < 1 or len(report.epoch_losses) != args.epochs:
        sys.exit(f"the fine-tune took {report.steps} steps over {len(report.epoch_losses)} "
                 f"of {args.epochs} epochs")
    if not all(isinstance(v, int | float) and math.isfinite(v) for v in values):
        sys.exit(f"a figure is missing or not finite: {values}")


if __name__ == "__main__":
    main()
