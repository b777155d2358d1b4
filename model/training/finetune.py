"""The decoder fine-tune: frozen image encoder (embeddings precomputed), trainable mask
decoder and optionally prompt encoder, boxes jittered within the protocol's tolerance,
seeded so the same data and settings give the same weights on the same machine."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import numpy as np
import torch

from model.engines.base import CancelCheck, ProgressCallback
from model.networks.lite_medsam import LiteMedSAM
from model.training.embedded import EmbeddedExample, TrainingCancelled
from model.training.loss import training_loss
from model.training.prompts import BoxTolerance, jittered_box


@dataclass(frozen=True)
class FineTuneConfig:
    """Hyperparameters, recorded with every fine-tuned version."""

    epochs: int = 12
    batch_size: int = 4
    learning_rate: float = 1e-4
    weight_decay: float = 0.01
    seed: int = 0
    train_prompt_encoder: bool = False
    tolerance: BoxTolerance = field(default_factory=BoxTolerance)

    def __post_init__(self) -> None:
        if self.epochs < 1 or self.batch_size < 1:
            raise ValueError("epochs and batch_size must be at least 1")
        if self.learning_rate <= 0:
            raise ValueError("learning_rate must be positive")

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> FineTuneConfig:
        values = dict(values)
        tolerance = BoxTolerance(**values.pop("tolerance", {}))
        return cls(tolerance=tolerance, **values)


@dataclass
class FineTuneReport:
    epoch_losses: list[float]
    steps: int
    seconds: float
    trained_modules: list[str]


def trainable_parameters(network: LiteMedSAM, config: FineTuneConfig) -> list[str]:
    """Freeze everything except the modules this fine-tune trains; return their names."""
    modules = ["mask_decoder"] + (["prompt_encoder"] if config.train_prompt_encoder else [])
    for name, parameter in network.named_parameters():
        parameter.requires_grad_(name.split(".")[0] in modules)
    return modules


def _batch(items: Sequence[EmbeddedExample], config: FineTuneConfig,
           rng: np.random.Generator) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    embeddings = torch.cat([item.embedding for item in items])
    boxes = torch.stack([
        torch.as_tensor(item.geometry.box_to_model(jittered_box(
            item.example.mask, config.tolerance, item.example.spacing_yx, rng)))
        for item in items
    ])
    targets = torch.stack([item.target for item in items])
    return embeddings, boxes, targets


def fine_tune(
    network: LiteMedSAM,
    train: Sequence[EmbeddedExample],
    config: FineTuneConfig,
    progress: ProgressCallback | None = None,
    cancelled: CancelCheck | None = None,
) -> FineTuneReport:
    """Train `network` in place on the embedded examples; raise TrainingCancelled on request
    (the network is then half-trained: callers discard it)."""
    if not train:
        raise ValueError("there are no training examples")
    started = time.perf_counter()
    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    modules = trainable_parameters(network, config)
    parameters = [p for p in network.parameters() if p.requires_grad]
    optimiser = torch.optim.AdamW(parameters, lr=config.learning_rate,
                                  weight_decay=config.weight_decay)
    batches_per_epoch = -(-len(train) // config.batch_size)
    total = config.epochs * batches_per_epoch
    network.train()
    losses, step = [], 0
    try:
        for _ in range(config.epochs):
            order = rng.permutation(len(train))
            epoch_loss = 0.0
            for start in range(0, len(train), config.batch_size):
                if cancelled is not None and cancelled():
                    raise TrainingCancelled("cancelled while training")
                items = [train[i] for i in order[start:start + config.batch_size]]
                embeddings, boxes, targets = _batch(items, config, rng)
                logits, iou = network.decode(embeddings, boxes=boxes)
                loss = training_loss(logits, iou, targets)
                optimiser.zero_grad(set_to_none=True)
                loss.backward()
                optimiser.step()
                epoch_loss += float(loss.detach()) * len(items)
                step += 1
                if progress is not None:
                    progress(step, total)
            losses.append(round(epoch_loss / len(train), 5))
    finally:
        network.eval()
        for parameter in network.parameters():
            parameter.requires_grad_(False)
    return FineTuneReport(losses, step, round(time.perf_counter() - started, 2), modules)
