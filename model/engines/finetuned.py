"""LiteMedSAM engines with fine-tuned weights: each fine-tune is its own engine version.

A fine-tune trains the prompt encoder and mask decoder on a site's confirmed masks and keeps
the image encoder frozen. Its full state dict is stored as ``<sha256>.pth``; the engines are
named after that sha256 (``litemedsam-ft-<12 hex>`` and ``...-int8``), so a new fine-tune is
never a silent replacement of an engine a prompt library entry already pins.

Which fine-tunes exist is the caller's knowledge (the backend's approved model versions):
`register_finetuned` adds one to the registry; `model.engines.providers` lets the
backend do that lazily before engines are listed or loaded.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import torch

from model.engines.base import Engine, EngineUnavailable
from model.engines.litemedsam import LiteMedSAMEngine, LiteMedSAMInt8Engine
from model.weights import LITEMEDSAM_WEIGHTS, file_sha256, verified_path

PREFIX = "litemedsam-ft-"
TRAINED_MODULES = ("prompt_encoder.", "mask_decoder.")


def engine_names(sha256: str) -> tuple[str, str]:
    """(fp32 name, int8 name) of the engines for a fine-tuned weights file."""
    return f"{PREFIX}{sha256[:12]}", f"{PREFIX}{sha256[:12]}-int8"


class FineTunedWeights:
    """Mixin: after the base network is built, load the fine-tuned prompt encoder and mask
    decoder, after checking the file's sha256 and that its image encoder is the frozen one
    (the int8 encoder built from the base weights stays valid)."""

    weights_path: ClassVar[Path]
    weights_file_sha256: ClassVar[str]

    def __init__(self, device=None, cache_size: int = 32) -> None:
        super().__init__(device, cache_size)
        if file_sha256(self.weights_path) != self.weights_file_sha256:
            raise EngineUnavailable(
                f"{self.weights_path} does not match its sha256 {self.weights_file_sha256}; "
                "the file was changed after training: restore it from backup"
            )
        state = torch.load(self.weights_path, map_location="cpu", weights_only=True)
        base = torch.load(verified_path(LITEMEDSAM_WEIGHTS), map_location="cpu",
                          weights_only=True)
        changed = [k for k, v in state.items() if not k.startswith(TRAINED_MODULES)
                   and not torch.equal(v, base[k])]
        if changed or set(state) != set(base):
            raise EngineUnavailable(
                f"{self.weights_path.name} changes more than the prompt encoder and mask "
                f"decoder (e.g. {(changed or sorted(set(state) ^ set(base)))[0]}); only "
                "decoder fine-tunes of LiteMedSAM are supported"
            )
        for prefix in TRAINED_MODULES:
            module = getattr(self.network, prefix.rstrip("."))
            module.load_state_dict({k[len(prefix):]: v for k, v in state.items()
                                    if k.startswith(prefix)}, strict=True)
        self._weights_sha256 = self.weights_file_sha256

    @classmethod
    def availability(cls) -> tuple[bool, str]:
        available, reason = super().availability()
        if available and not cls.weights_path.is_file():
            return False, f"the fine-tuned weights {cls.weights_path} are missing"
        return available, reason

    @classmethod
    def pinned_weights_sha256(cls) -> str:
        return cls.weights_file_sha256


def engine_classes(path: Path, sha256: str, label: str = "") -> list[type[Engine]]:
    """The fp32 and int8 engine classes for one fine-tuned weights file."""
    fp32_name, int8_name = engine_names(sha256)
    about = f"fine-tuned {label}".strip() + f", weights {sha256[:12]}"
    classes = []
    for name, base in ((fp32_name, LiteMedSAMEngine), (int8_name, LiteMedSAMInt8Engine)):
        classes.append(type(name.replace("-", "_"), (FineTunedWeights, base), {
            "name": name,
            "version": f"{base.version}+ft.{sha256[:12]}",
            "queue": "cpu",
            "description": f"{base.description}; {about}",
            "weights_path": Path(path),
            "weights_file_sha256": sha256,
        }))
    return classes


def register_finetuned(path: Path, sha256: str, label: str = "") -> tuple[str, str]:
    """Register the engines of a fine-tuned weights file once; return their names."""
    from model.engines import registry

    names = engine_names(sha256)
    if names[0] not in registry.engine_names():
        for engine_class in engine_classes(path, sha256, label):
            registry.register(engine_class)
    return names
