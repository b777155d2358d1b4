"""MedSAM-2 engines: `medsam2` (CUDA bf16 when a GPU is there, else fp32 CPU;
queue 'gpu') and `medsam2-int8` (CPU, Hiera trunk in ONNX Runtime int8; queue 'cpu').

Configuring a site: set the environment variable MEDSAM2_CHECKPOINT to the
checkpoint file (official SAM 2 / 2.1, Medical SAM 2's MedSAM2_pretrain.pth,
or a bowang-lab MedSAM2_*.pt). A model card next to it, `<stem>.json` or
`<stem>.yaml` with `variant`, `version` and `image_size`, says which network
it holds; without one it is inferred from the key shapes (see
`model.medsam2.checkpoint`). Without a usable checkpoint both engines report
themselves unavailable with the reason; nothing falls back to another engine.

Volumes run as bowang-lab runs them: the prompts on their key slices,
propagation forward from the first key slice; a reset, the same prompts,
propagation backward from the last one. A slice between two key slices takes
the pass from its nearer key slice. Every result carries the weights' sha256.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from model.engines.base import (
    Box,
    CancelCheck,
    Engine,
    EngineUnavailable,
    Prediction,
    ProgressCallback,
    SegmentationCancelled,
    SegmentOptions,
    SlicePrompt,
    VolumeResult,
    checked_volume,
    default_device,
)
from model.engines.cache import LRUCache, as_slice, content_key
from model.medsam2.checkpoint import (
    CheckpointError,
    load_checkpoint,
    model_card_path,
    read_model_card,
)
from model.medsam2.frames import VolumeFrames, image_to_model, logits_to_original, prompt_points
from model.medsam2.int8 import OnnxTrunk, build_int8_trunk
from model.medsam2.model import FrameFeatures
from model.medsam2.stream import StreamPredictor
from model.medsam2.video import VolumePredictor
from model.postprocess import fill_holes_per_slice, largest_component
from model.preprocess import PromptError, normalise_intensity
from model.propagation import validate_prompts

CHECKPOINT_ENV = "MEDSAM2_CHECKPOINT"
ENGINE_VERSION = "1.0.0"
SAM2_HOLE_AREA = 8  # SAM 2's video predictor fills background specks up to 8 low-res pixels


def configured_checkpoint() -> Path | None:
    value = os.environ.get(CHECKPOINT_ENV, "").strip()
    return Path(value) if value else None


@dataclass(frozen=True)
class MedSAM2Slice:
    """A cached image's features and its original (rows, cols)."""

    key: str
    features: FrameFeatures
    shape: tuple[int, int]


class MedSAM2Engine(Engine):
    name = "medsam2"
    version = ENGINE_VERSION
    queue = "gpu"
    description = ("MedSAM-2 (SAM 2 architecture, memory propagation); CUDA bf16, or fp32 on "
                   f"the CPU; checkpoint from ${CHECKPOINT_ENV}")

    def __init__(self, device: torch.device | str | None = None,
                 checkpoint: str | Path | None = None, cache_size: int = 8) -> None:
        path = Path(checkpoint) if checkpoint is not None else configured_checkpoint()
        if checkpoint is None:
            available, reason = self.availability()
            if not available:
                raise EngineUnavailable(f"{self.name} is unavailable: {reason}")
        super().__init__(torch.device(device) if device is not None else self._pick_device())
        try:
            loaded = load_checkpoint(path, "cpu")
        except CheckpointError as error:
            raise EngineUnavailable(f"{self.name} is unavailable: {error}") from error
        self.config = loaded.config
        self.config_source = loaded.config_source
        self._weights_sha256 = loaded.sha256
        self.model = self._prepare(loaded.model).to(self.device)
        self.cache: LRUCache[MedSAM2Slice] = LRUCache(cache_size)

    @classmethod
    def _pick_device(cls) -> torch.device:
        return default_device()

    def _prepare(self, model: torch.nn.Module) -> torch.nn.Module:
        return model

    @classmethod
    def availability(cls) -> tuple[bool, str]:
        path = configured_checkpoint()
        if path is None:
            return False, (f"no checkpoint configured: set {CHECKPOINT_ENV} to a MedSAM-2 or "
                           "SAM 2 checkpoint file (optionally with a <name>.json model card)")
        if not path.is_file():
            return False, f"{CHECKPOINT_ENV}={path} does not exist"
        card = model_card_path(path)
        if card is not None:
            try:
                read_model_card(card)
            except CheckpointError as error:
                return False, str(error)
        return True, ""

    @property
    def weights_sha256(self) -> str:
        return self._weights_sha256

    def _precision(self) -> contextlib.AbstractContextManager:
        if self.device.type == "cuda":
            return torch.autocast("cuda", dtype=torch.bfloat16)
        return contextlib.nullcontext()

    @torch.inference_mode()
    def embed_slice(self, image: np.ndarray) -> MedSAM2Slice:
        image = as_slice(image)
        key = content_key(image)

        def embed() -> MedSAM2Slice:
            tensor = image_to_model(image, self.config.image_size).to(self.device)[None]
            with self._precision():
                features = self.model.encode_image(tensor)
            return MedSAM2Slice(key, features, (int(image.shape[0]), int(image.shape[1])))

        return self.cache.get_or_compute(key, embed)

    @torch.inference_mode()
    def predict_2d(
        self,
        slice_image: np.ndarray | MedSAM2Slice,
        box: Box | None = None,
        points: Sequence[tuple[float, float, int]] | None = None,
        return_logits: bool = False,
    ) -> Prediction:
        """One image; a single click gives three masks and the best predicted IoU wins."""
        handle = slice_image if isinstance(slice_image, MedSAM2Slice) else self.embed_slice(
            slice_image)
        coords, labels = prompt_points(handle.shape, self.config.image_size, box, points)
        with self._precision():
            heads = self.model.sam_heads(
                self.model.without_memory(handle.features), handle.features.high_res,
                (coords.to(self.device), labels.to(self.device)), multimask=labels.shape[1] == 1)
        logits = logits_to_original(heads.low_res_masks.float(), handle.shape)[0, 0]
        logits = logits.cpu().numpy()
        return Prediction(mask=logits > 0, iou=float(heads.ious.max()),
                          logits=logits if return_logits else None)

    def stream(self, read_count: int = 1, deterministic: bool = True) -> StreamPredictor:
        """A 2D stream predictor (self-sorting memory bank) on this engine's network."""
        return StreamPredictor(self.model, read_count=read_count, deterministic=deterministic)

    def segment_volume(
        self,
        volume_zyx: np.ndarray,
        spacing_zyx: Sequence[float],
        prompts: Sequence[SlicePrompt],
        window: tuple[float, float] | None = None,
        modality: str = "CT",
        options: SegmentOptions | None = None,
        progress: ProgressCallback | None = None,
        cancelled: CancelCheck | None = None,
    ) -> VolumeResult:
        started = time.perf_counter()
        volume = checked_volume(volume_zyx, spacing_zyx)
        options = options or SegmentOptions()
        grouped = validate_prompts(prompts, volume.shape[0], options.extent)
        for slice_index, boxes in grouped.items():
            if len(boxes) > 1:
                raise PromptError(f"MedSAM-2 takes one box per slice; slice {slice_index} "
                                  f"has {len(boxes)}")
            prompt_points(volume.shape[1:], self.config.image_size, boxes[0])
        keys = sorted(grouped)
        normalised = normalise_intensity(volume, modality, window)
        predictor = VolumePredictor(self.model, VolumeFrames(normalised, self.config.image_size),
                                    volume.shape[1:], fill_hole_area=SAM2_HOLE_AREA)
        num_slices = volume.shape[0]
        work = (num_slices - keys[0]) + (keys[-1] + 1)
        done = 0

        def passes() -> Iterator[tuple[bool, int, torch.Tensor, float, float]]:
            for reverse in (False, True):
                predictor.reset()
                for slice_index in keys:
                    predictor.add_prompt(slice_index, box=grouped[slice_index][0])
                start = keys[-1] if reverse else keys[0]
                for index, logits, out in predictor.propagate(start, reverse,
                                                              options.max_distance):
                    yield (reverse, index, logits, float(out.iou.max()),
                           float(out.object_score_logits.max()))

        logits_by_pass: dict[bool, dict[int, np.ndarray]] = {False: {}, True: {}}
        iou_by_pass: dict[bool, dict[int, float]] = {False: {}, True: {}}
        absent_from: dict[bool, int] = {}
        encode_started = time.perf_counter()
        with torch.inference_mode(), self._precision():
            for reverse, index, logits, iou, score in passes():
                if cancelled is not None and cancelled():
                    raise SegmentationCancelled("segmentation was cancelled")
                logits_by_pass[reverse][index] = logits.float().cpu().numpy()
                iou_by_pass[reverse][index] = iou
                if score <= 0 and index not in keys:
                    absent_from.setdefault(reverse, index)
                done += 1
                if progress is not None:
                    progress(min(num_slices, round(done * num_slices / work)), num_slices)
        propagated = time.perf_counter()

        mask = np.zeros(volume.shape, bool)
        per_slice_iou: dict[int, float] = {}
        for index in range(num_slices):
            chosen = _nearer_pass(index, keys, logits_by_pass)
            outside = options.extent is not None and not (
                options.extent[0] <= index <= options.extent[1])
            if chosen is None or outside:  # nothing is kept past a marked end slice
                continue
            mask[index] = logits_by_pass[chosen][index] > 0
            per_slice_iou[index] = iou_by_pass[chosen][index]
        if options.fill_holes:
            mask = fill_holes_per_slice(mask)
        if options.largest_component:
            mask = largest_component(mask)
        finished = time.perf_counter()
        stop_reasons = {}
        for reverse, direction in ((False, "up"), (True, "down")):
            label = f"{keys[0] if not reverse else keys[-1]}:{direction}"
            stop_reasons[label] = (f"object absent from slice {absent_from[reverse]} on"
                                   if reverse in absent_from else "reached the end of its range")
        return VolumeResult(
            mask=mask.astype(np.uint8),
            per_slice_iou={i: v for i, v in per_slice_iou.items() if mask[i].any()},
            key_slices=keys,
            timings={"embed": predictor.seconds_encoding,
                     "decode": propagated - encode_started - predictor.seconds_encoding,
                     "postprocess": finished - propagated, "total": finished - started},
            stop_reasons=stop_reasons,
        )


def _nearer_pass(index: int, keys: list[int], by_pass: dict[bool, dict]) -> bool | None:
    """Which pass a slice takes: the one from its nearer key slice (ties: forward)."""
    has_forward, has_backward = index in by_pass[False], index in by_pass[True]
    if not (has_forward or has_backward):
        return None
    if has_forward != has_backward:
        return has_backward
    below = max(k for k in keys if k <= index)
    above = min(k for k in keys if k >= index)
    return index - below > above - index


class MedSAM2Int8Engine(MedSAM2Engine):
    name = "medsam2-int8"
    queue = "cpu"
    description = ("MedSAM-2 with its Hiera image encoder in ONNX Runtime (dynamic int8 "
                   f"MatMul), CPU; checkpoint from ${CHECKPOINT_ENV}")

    @classmethod
    def _pick_device(cls) -> torch.device:
        return torch.device("cpu")

    def __init__(self, device: torch.device | str | None = None,
                 checkpoint: str | Path | None = None, cache_size: int = 8) -> None:
        if device is not None and torch.device(device).type != "cpu":
            raise EngineUnavailable(f"{self.name} runs on the CPU only, not on {device}")
        super().__init__(device, checkpoint, cache_size)

    @classmethod
    def availability(cls) -> tuple[bool, str]:
        available, reason = super().availability()
        if available and importlib.util.find_spec("onnxruntime") is None:
            return False, "the Python package onnxruntime is not installed"
        return available, reason

    def _prepare(self, model: torch.nn.Module) -> torch.nn.Module:
        trunk = model.image_encoder.trunk
        path = build_int8_trunk(trunk, self.config, self._weights_sha256)
        model.image_encoder.trunk = OnnxTrunk(path, trunk.channel_list,
                                              threads=torch.get_num_threads())
        return model
