"""Loading and saving MedSAM-2 / SAM 2 checkpoints, strictly.

Formats sites have, all `{'model': state_dict}` (a bare state dict is accepted too):
- official SAM 2 / SAM 2.1 checkpoints (`sam2_hiera_*.pt`, `sam2.1_hiera_*.pt`);
- Medical SAM 2's `MedSAM2_pretrain.pth` (SAM 2.0 keys, tensors possibly bf16);
- bowang-lab MedSAM2 (`MedSAM2_*.pt`: SAM 2.1 hiera-tiny at image size 512).

The network's shape comes from a model card next to the file, `<stem>.json` or
`<stem>.yaml` with `variant` (tiny, small, base_plus, large), `version` ('2.0'
or '2.1') and `image_size`. Without a card, variant and version are read from
the key shapes and the image size from the file name (512 for bowang-lab's
`MedSAM2_*` files, else 1024); `LoadedCheckpoint.config_source` says which.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import torch

from model.medsam2.config import HIERA, ModelConfig
from model.medsam2.model import MedSAM2Model
from model.weights import file_sha256

CARD_SUFFIXES = (".json", ".yaml", ".yml")
_LISTED = 8


class CheckpointError(ValueError):
    """A checkpoint file that cannot be used; the message says what is wrong."""


@dataclass
class LoadedCheckpoint:
    model: MedSAM2Model
    config: ModelConfig
    sha256: str
    path: Path
    config_source: str


def model_card_path(checkpoint: Path) -> Path | None:
    for suffix in CARD_SUFFIXES:
        candidate = checkpoint.with_suffix(suffix)
        if candidate.is_file():
            return candidate
    return None


def read_model_card(path: Path) -> dict[str, str]:
    """A flat JSON object or flat `key: value` YAML lines."""
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".json":
        try:
            card = json.loads(text)
        except json.JSONDecodeError as error:
            raise CheckpointError(f"model card {path} is not valid JSON: {error}") from None
        if not isinstance(card, dict):
            raise CheckpointError(f"model card {path} must hold a JSON object")
        return {str(k): str(v) for k, v in card.items()}
    card = {}
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.split("#", 1)[0].strip()
        if not stripped:
            continue
        match = re.fullmatch(r"([A-Za-z_][\w-]*)\s*:\s*(.*)", stripped)
        if match is None:
            raise CheckpointError(f"model card {path} line {number}: expected 'key: value'")
        card[match[1]] = match[2].strip().strip("'\"")
    return card


def config_from_card(card: dict[str, str], path: Path) -> ModelConfig:
    unknown = set(card) - {"variant", "version", "image_size", "name", "description"}
    if unknown:
        raise CheckpointError(f"model card {path} has unknown fields {sorted(unknown)}; "
                              "allowed: variant, version, image_size, name, description")
    try:
        return ModelConfig(variant=card.get("variant", "tiny"),
                           version=str(card.get("version", "2.1")),
                           image_size=int(card.get("image_size", 1024)))
    except ValueError as error:
        raise CheckpointError(f"model card {path}: {error}") from None


def read_state_dict(path: Path) -> dict[str, torch.Tensor]:
    try:
        loaded = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises many types for a bad file
        raise CheckpointError(f"{path} is not a readable PyTorch checkpoint: {error}") from None
    state = loaded.get("model", loaded) if isinstance(loaded, dict) else None
    if not isinstance(state, dict) or not all(
        isinstance(v, torch.Tensor) for v in state.values()
    ):
        raise CheckpointError(f"{path} holds no state dict: expected {{'model': state_dict}}")
    return state


def infer_config(state: dict[str, torch.Tensor], path: Path) -> tuple[ModelConfig, str]:
    """Variant and version from key shapes; image size from the file name."""
    patch = state.get("image_encoder.trunk.patch_embed.proj.weight")
    if patch is None:
        raise CheckpointError(f"{path} is not a SAM 2 checkpoint: it has no "
                              "image_encoder.trunk.patch_embed.proj.weight")
    blocks = {int(m[1]) for key in state
              if (m := re.match(r"image_encoder\.trunk\.blocks\.(\d+)\.", key))}
    depth = max(blocks) + 1 if blocks else 0
    matches = [name for name, spec in HIERA.items()
               if spec.embed_dim == patch.shape[0] and spec.depth == depth]
    if not matches:
        raise CheckpointError(f"{path}: no Hiera variant has width {patch.shape[0]} and "
                              f"{depth} blocks; add a model card {path.with_suffix('.json')}")
    version = "2.1" if "obj_ptr_tpos_proj.weight" in state else "2.0"
    bowang = path.name.startswith("MedSAM2_") and "pretrain" not in path.name
    image_size = 512 if bowang else 1024
    config = ModelConfig(matches[0], version, image_size)
    source = (f"inferred from the key shapes (hiera-{config.variant}, SAM {version}); image "
              f"size {image_size} assumed from the file name; a model card "
              f"{path.with_suffix('.json').name} makes it explicit")
    return config, source


def _listing(keys: set[str]) -> str:
    ordered = sorted(keys)
    shown = ", ".join(ordered[:_LISTED])
    return shown + (f" and {len(ordered) - _LISTED} more" if len(ordered) > _LISTED else "")


def load_checkpoint(path: str | Path, device: torch.device | str = "cpu") -> LoadedCheckpoint:
    """The network with the file's weights (fp32), loaded strictly, and its sha256."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} does not exist")
    state = read_state_dict(path)
    card_path = model_card_path(path)
    if card_path is not None:
        config = config_from_card(read_model_card(card_path), card_path)
        source = f"model card {card_path.name}"
    else:
        config, source = infer_config(state, path)
    model = MedSAM2Model(config)
    expected = model.state_dict()
    missing, unexpected = set(expected) - set(state), set(state) - set(expected)
    if missing or unexpected:
        problems = []
        if missing:
            problems.append(f"missing keys ({len(missing)}): {_listing(missing)}")
        if unexpected:
            problems.append(f"unexpected keys ({len(unexpected)}): {_listing(unexpected)}")
        raise CheckpointError(f"{path} does not fit {config.name} ({source}): "
                              + "; ".join(problems))
    wrong = {key for key, value in state.items() if value.shape != expected[key].shape}
    if wrong:
        first = sorted(wrong)[0]
        raise CheckpointError(
            f"{path} does not fit {config.name} ({source}): {len(wrong)} tensors have other "
            f"shapes, e.g. {first} {tuple(state[first].shape)} instead of "
            f"{tuple(expected[first].shape)}")
    model.load_state_dict({k: v.float() for k, v in state.items()}, strict=True)
    model.eval()
    return LoadedCheckpoint(model.to(device), config, file_sha256(path), path, source)


def save_checkpoint(model: MedSAM2Model, path: str | Path, dtype: torch.dtype = torch.float32,
                    card: bool = True) -> Path:
    """Write `{'model': state_dict}` (tensors in `dtype`) and, optionally, its model card."""
    path = Path(path)
    state = {k: v.detach().to("cpu", dtype) if v.is_floating_point() else v.detach().cpu()
             for k, v in model.state_dict().items()}
    torch.save({"model": state}, path)
    if card:
        config = model.config
        path.with_suffix(".json").write_text(json.dumps(
            {"variant": config.variant, "version": config.version,
             "image_size": config.image_size}, indent=2) + "\n", encoding="utf-8")
    return path
