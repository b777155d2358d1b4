"""Networks to fine-tune and the weights they produce: the full state dict, written to a
temporary file and renamed to ``<sha256>.pth`` only when complete."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import torch

from model.networks.lite_medsam import LiteMedSAM
from model.weights import file_sha256


def load_trainable(weights: Path) -> LiteMedSAM:
    """A LiteMedSAM network from a full state dict, unfused, so its state dict keeps the
    released checkpoint's keys."""
    network = LiteMedSAM()
    network.load_state_dict(torch.load(weights, map_location="cpu", weights_only=True),
                            strict=True)
    return network.eval()


def save_state_dict(network: LiteMedSAM, folder: Path) -> tuple[Path, str]:
    """Write the full state dict atomically as ``folder/<sha256>.pth``; return (path, sha256)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    handle, scratch = tempfile.mkstemp(dir=folder, prefix=".partial-", suffix=".pth")
    os.close(handle)
    try:
        torch.save({k: v.detach().cpu().contiguous() for k, v in network.state_dict().items()},
                   scratch)
        sha256 = file_sha256(Path(scratch))
        target = folder / f"{sha256}.pth"
        os.replace(scratch, target)
    except BaseException:
        Path(scratch).unlink(missing_ok=True)
        raise
    return target, sha256
