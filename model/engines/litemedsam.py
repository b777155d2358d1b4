"""LiteMedSAM engines: fp32 (torch, CPU or CUDA) and int8 (ONNX Runtime, CPU).

Both share the network, the preprocessing, the embedding cache, the fp32
prompt encoder and mask decoder, and the box propagation; they differ only in
how the image encoder runs.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from model import openvino_cpu
from model.engines.base import (
    Box,
    CancelCheck,
    Engine,
    EngineUnavailable,
    Prediction,
    ProgressCallback,
    SegmentOptions,
    SlicePrompt,
    VolumeResult,
    checked_volume,
    default_device,
)
from model.engines.cache import LRUCache, as_slice, content_key
from model.networks.lite_medsam import IMAGE_SIZE, LiteMedSAM
from model.networks.tiny_vit import fuse_conv_bn
from model.preprocess import PromptError, ResizeGeometry, normalise_intensity
from model.propagation import propagate
from model.weights import LITEMEDSAM_WEIGHTS, WeightsUnavailable, locate, verified_path

ENGINE_VERSION = "1.1.0"


@dataclass(frozen=True)
class SliceEmbedding:
    """A cached image embedding and how its slice sits in the model grid."""

    key: str
    embedding: torch.Tensor
    geometry: ResizeGeometry


_ONE_THREAD = {"lock": threading.Lock(), "inside": 0, "saved": 1}


def load_network(device: torch.device) -> tuple[LiteMedSAM, str]:
    """The LiteMedSAM network with the verified weights, and their sha256."""
    try:
        path = verified_path(LITEMEDSAM_WEIGHTS)
    except WeightsUnavailable as error:
        raise EngineUnavailable(str(error)) from error
    network = LiteMedSAM()
    state = torch.load(path, map_location="cpu", weights_only=True)
    network.load_state_dict(state, strict=True)
    network.eval()
    fuse_conv_bn(network.image_encoder)
    return network.to(device), LITEMEDSAM_WEIGHTS.sha256


class LiteMedSAMEngine(Engine):
    name = "litemedsam"
    version = ENGINE_VERSION
    queue = "cpu"
    description = (
        "LiteMedSAM (TinyViT + SAM decoder), fp32, real MedSAM weights; CPU or CUDA (on the "
        "CPU the image encoder and mask decoder run in OpenVINO fp32)"
    )

    def __init__(self, device: torch.device | str | None = None, cache_size: int = 32) -> None:
        available, reason = self.availability()
        if not available:
            raise EngineUnavailable(f"{self.name} is unavailable: {reason}")
        super().__init__(torch.device(device) if device is not None else self._pick_device())
        self.network, self._weights_sha256 = load_network(self.device)
        self._decoder: openvino_cpu.CompiledModel | None = None
        # On the CPU the fp32 mask decoder runs in OpenVINO (same logits to ~1e-5, about
        # 1.5x faster than torch), so a second prompt on a cached slice stays interactive.
        self._openvino_decoder = self.device.type == "cpu" and openvino_cpu.available()[0]
        # So does the encoder (the same embedding to ~2e-6, about 1.4x faster): the first
        # prompt on a slice, every slice of a propagation.
        self._openvino_encoder = self._openvino_decoder
        self._threads = torch.get_num_threads()  # for OpenVINO, whose models build lazily
        self._encode = self._build_encoder()
        self.cache: LRUCache[SliceEmbedding] = LRUCache(cache_size)

    @classmethod
    def _pick_device(cls) -> torch.device:
        return default_device()

    def _build_encoder(self) -> Callable[[torch.Tensor], torch.Tensor]:
        if not self._openvino_encoder:
            return self.network.image_encoder
        path = openvino_cpu.build_fp32_encoder(
            self.network.image_encoder, self._weights_sha256, IMAGE_SIZE)
        return openvino_cpu.Int8Encoder(path, self._threads, "f32")

    @classmethod
    def availability(cls) -> tuple[bool, str]:
        try:
            locate(LITEMEDSAM_WEIGHTS)
        except WeightsUnavailable as error:
            return False, str(error)
        return True, ""

    @classmethod
    def pinned_weights_sha256(cls) -> str:
        return LITEMEDSAM_WEIGHTS.sha256

    @property
    def weights_sha256(self) -> str:
        return self._weights_sha256

    @torch.inference_mode()
    def embed_slice(self, image: np.ndarray) -> SliceEmbedding:
        if self._openvino_encoder:
            with self._torch_on_one_thread():
                return self._embed_slice(image)
        return self._embed_slice(image)

    def _embed_slice(self, image: np.ndarray) -> SliceEmbedding:
        image = as_slice(image)
        key = content_key(image)

        def embed() -> SliceEmbedding:
            geometry = ResizeGeometry.for_shape(image.shape, IMAGE_SIZE)
            embedding = self._encode(geometry.image_to_model(image, self.device))
            return SliceEmbedding(key=key, embedding=embedding.to(self.device), geometry=geometry)

        return self.cache.get_or_compute(key, embed)

    def _decode(self, embedding: torch.Tensor, sparse: torch.Tensor,
                dense: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Every mask token's low-resolution logits (1, 4, 256, 256) and IoU (1, 4)."""
        if not self._openvino_decoder:
            return self.network.mask_decoder.predict_masks(
                embedding, self.network.prompt_encoder.get_dense_pe(), sparse, dense)
        if self._decoder is None:
            # Built on first use, after a fine-tune has loaded its decoder weights, and
            # named by the sha256 of the weights this engine reports.
            path = openvino_cpu.build_decoder(self.network, self.weights_sha256)
            self._decoder = openvino_cpu.CompiledModel(path, self._threads, "f32")
        masks, iou = self._decoder(embedding=embedding.numpy(), sparse=sparse.numpy(),
                                   dense=dense.numpy())
        return torch.from_numpy(masks), torch.from_numpy(iou)

    def _decoder_runtime(self) -> str:
        if self._openvino_decoder:
            return f"openvino {openvino_cpu.runtime_version()} fp32"
        return f"torch {torch.__version__} fp32"

    @contextlib.contextmanager
    def _torch_on_one_thread(self) -> Iterator[None]:
        """Around work that OpenVINO does on its own threads: the little left to torch
        (prompt encoding, resizing) runs on one thread, so that torch's spinning OpenMP
        workers do not take cores from OpenVINO's (about 4 ms of a 40 ms prompt)."""
        # torch's thread count is the process's: with a job and a live preview on two threads,
        # the first in saves it and the last out restores it.
        with _ONE_THREAD["lock"]:
            if _ONE_THREAD["inside"] == 0:
                _ONE_THREAD["saved"] = torch.get_num_threads()
                torch.set_num_threads(1)
            _ONE_THREAD["inside"] += 1
        try:
            yield
        finally:
            with _ONE_THREAD["lock"]:
                _ONE_THREAD["inside"] -= 1
                if _ONE_THREAD["inside"] == 0:
                    torch.set_num_threads(_ONE_THREAD["saved"])

    @property
    def runtime(self) -> dict[str, str]:
        encoder = (f"openvino {openvino_cpu.runtime_version()} fp32" if self._openvino_encoder
                   else f"torch {torch.__version__} fp32")
        return {"encoder": encoder, "decoder": self._decoder_runtime()}

    @torch.inference_mode()
    def predict_2d(
        self,
        slice_image: np.ndarray | SliceEmbedding,
        box: Box | None = None,
        points: Sequence[tuple[float, float, int]] | None = None,
        return_logits: bool = False,
    ) -> Prediction:
        handle = slice_image if isinstance(slice_image, SliceEmbedding) else self.embed_slice(
            slice_image)
        if self._openvino_decoder:
            with self._torch_on_one_thread():
                return self._predict(handle, box, points, return_logits)
        return self._predict(handle, box, points, return_logits)

    def _predict(
        self,
        handle: SliceEmbedding,
        box: Box | None,
        points: Sequence[tuple[float, float, int]] | None,
        return_logits: bool,
    ) -> Prediction:
        geometry = handle.geometry
        if box is None and not points:
            raise PromptError("a box or at least one point is needed")
        boxes_t = None
        if box is not None:
            boxes_t = torch.as_tensor(geometry.box_to_model(box), device=self.device)[None]
        points_t = None
        if points:
            array = np.asarray(points, np.float32).reshape(-1, 3)
            if not np.isin(array[:, 2], (0, 1)).all():
                raise PromptError("point labels must be 1 (inside) or 0 (outside)")
            coords = geometry.points_to_model(array[:, :2])
            points_t = (
                torch.as_tensor(coords, device=self.device)[None],
                torch.as_tensor(array[:, 2], device=self.device, dtype=torch.int64)[None],
            )
        sparse, dense = self.network.prompt_encoder(points=points_t, boxes=boxes_t, masks=None)
        low_res, iou = self._decode(handle.embedding, sparse, dense)
        # One click is ambiguous: take the best of the three multimask outputs.
        multimask = box is None and len(points) == 1
        selected = slice(1, None) if multimask else slice(0, 1)
        low_res, iou = low_res[:, selected], iou[:, selected]
        best = int(iou[0].argmax())
        logits = geometry.logits_to_original(low_res[0, best]).float().cpu().numpy()
        return Prediction(
            mask=logits > 0,
            iou=float(iou[0, best]),
            logits=logits if return_logits else None,
        )

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
        volume = checked_volume(volume_zyx, spacing_zyx)
        options = options or SegmentOptions()
        normalised = normalise_intensity(volume, modality, window)
        geometry = ResizeGeometry.for_shape(volume.shape[1:], IMAGE_SIZE)
        for slice_index, box in prompts:
            if 0 <= int(slice_index) < volume.shape[0]:
                geometry.check_box(box)
        clock = {"embed": 0.0, "decode": 0.0}

        def predict(slice_index: int, box: Box) -> Prediction:
            started = time.perf_counter()
            handle = self.embed_slice(normalised[slice_index])
            embedded = time.perf_counter()
            prediction = self.predict_2d(handle, box=box)
            clock["embed"] += embedded - started
            clock["decode"] += time.perf_counter() - embedded
            return prediction

        result = propagate(
            predict, volume.shape, spacing_zyx, prompts, options, progress, cancelled,
            intensities=normalised,
        )
        result.timings.update(clock)
        return result


class LiteMedSAMInt8Engine(LiteMedSAMEngine):
    name = "litemedsam-int8"
    queue = "cpu"
    description = (
        "LiteMedSAM on OpenVINO, CPU: int8 linear layers (int8 weights, dynamically quantized "
        "activations), the rest of the encoder in bf16 where the CPU has it natively, else "
        "fp32; fp32 mask decoder"
    )

    @classmethod
    def _pick_device(cls) -> torch.device:
        return torch.device("cpu")

    @classmethod
    def availability(cls) -> tuple[bool, str]:
        available, reason = super().availability()
        if not available:
            return available, reason
        return openvino_cpu.available()

    def __init__(self, device: torch.device | str | None = None, cache_size: int = 32) -> None:
        if device is not None and torch.device(device).type != "cpu":
            raise EngineUnavailable(f"{self.name} runs on the CPU only, not on {device}")
        self._precision = openvino_cpu.compute_precision()
        super().__init__(device, cache_size)

    def _build_encoder(self) -> Callable[[torch.Tensor], torch.Tensor]:
        path = openvino_cpu.build_int8_encoder(
            self.network.image_encoder, self._weights_sha256, IMAGE_SIZE)
        return openvino_cpu.Int8Encoder(path, self._threads, self._precision)

    @property
    def runtime(self) -> dict[str, str]:
        version = openvino_cpu.runtime_version()
        return {
            "encoder": f"openvino {version} int8 linear + {self._precision}",
            "decoder": self._decoder_runtime(),
        }
