"""The official SAM 2 code (PyPI sam2==1.1.0) as a test oracle, on the CPU.

Test-only: it is never imported by the product. Its image transforms import
torchvision, which is not installed beside the CPU torch build; a stub stands
in while the package is imported. Its video predictor reads frames from disk;
`oracle_video_state` hands it tensors instead.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import types

import pytest
import torch

CONFIGS = {"2.0": "configs/sam2/sam2_hiera_t.yaml", "2.1": "configs/sam2.1/sam2.1_hiera_t.yaml"}


def require_oracle() -> None:
    """Skip without the oracle, except in CI, where its absence is a failure."""
    if importlib.util.find_spec("sam2") is None or importlib.util.find_spec("hydra") is None:
        message = ("the parity oracle is missing: SAM2_BUILD_CUDA=0 pip install --no-deps "
                   "--no-build-isolation sam2==1.1.0 && pip install hydra-core iopath")
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


class _Identity(torch.nn.Module):
    """Stands in for torchvision's Resize and Normalize: tests hand the oracle images
    already resized and normalised."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x


class _ToTensor:
    """(H, W, 3) float array to a (3, H, W) tensor, values unchanged."""

    def __call__(self, image):
        return torch.from_numpy(image).permute(2, 0, 1).contiguous()


def _stub_torchvision() -> None:
    if "torchvision" in sys.modules:
        return
    torchvision = types.ModuleType("torchvision")
    transforms = types.ModuleType("torchvision.transforms")
    transforms.Normalize = transforms.Resize = _Identity
    transforms.ToTensor = _ToTensor
    torchvision.transforms = transforms
    sys.modules["torchvision"] = torchvision
    sys.modules["torchvision.transforms"] = transforms


def build_oracle(version: str, image_size: int, video: bool = False) -> torch.nn.Module:
    """The reference SAM 2 tiny network (or video predictor) at `image_size`, eval, CPU."""
    require_oracle()
    _stub_torchvision()
    from sam2.build_sam import build_sam2, build_sam2_video_predictor

    side = image_size // 16
    overrides = [
        f"++model.image_size={image_size}",
        f"++model.memory_attention.layer.self_attention.feat_sizes=[{side},{side}]",
        f"++model.memory_attention.layer.cross_attention.feat_sizes=[{side},{side}]",
    ]
    builder = build_sam2_video_predictor if video else build_sam2
    model = builder(CONFIGS[version], None, device="cpu", hydra_overrides_extra=overrides)
    if video:
        model.fill_hole_area = 0  # its hole filling needs a CUDA extension
    return model.eval()


def randomise(model: torch.nn.Module, seed: int) -> None:
    """Perturb every weight with seeded noise, so no part is an identity or zero, and
    bias the object score positive (random heads would otherwise hide every mask)."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for _, tensor in sorted(model.state_dict().items()):
            if tensor.is_floating_point():
                noise = torch.randn(tensor.shape, generator=generator)
                tensor.add_(0.02 * noise.to(tensor.dtype))
        model.sam_mask_decoder.pred_obj_score_head.layers[-1].bias.fill_(2.0)


def image_predictor(model: torch.nn.Module):
    """The reference image predictor on `model`, with its feature sizes set for the
    model's image size (the release hard-codes those of 1024)."""
    from sam2.sam2_image_predictor import SAM2ImagePredictor

    predictor = SAM2ImagePredictor(model)
    side = model.image_size // 4
    predictor._bb_feat_sizes = [(side, side), (side // 2, side // 2), (side // 4, side // 4)]
    return predictor


def oracle_video_state(predictor, frames: torch.Tensor, height: int, width: int) -> dict:
    """`predictor.init_state` on (N, 3, S, S) normalised frames instead of a folder."""
    import sam2.sam2_video_predictor as video_module

    original = video_module.load_video_frames
    video_module.load_video_frames = lambda **_: (frames.clone(), height, width)
    try:
        return predictor.init_state(video_path="<tensors>")
    finally:
        video_module.load_video_frames = original
