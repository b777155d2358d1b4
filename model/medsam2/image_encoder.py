"""SAM 2's image encoder: the Hiera trunk and the FPN neck (prefix image_encoder).

The neck projects every trunk stage to d_model channels; the two coarsest
levels add the upsampled coarser level (nearest) top-down. The coarsest level
(stride 32) is dropped ("scalp"), leaving strides 4, 8 and 16.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from model.medsam2.hiera import Hiera
from model.medsam2.position import PositionEmbeddingSine


@dataclass
class BackboneOutput:
    """FPN levels (strides 4, 8, 16) and their sine position encodings."""

    features: list[Tensor]
    positions: list[Tensor]


class FpnNeck(nn.Module):
    def __init__(
        self,
        d_model: int,
        backbone_channel_list: Sequence[int],
        top_down_levels: Sequence[int] = (2, 3),
    ) -> None:
        super().__init__()
        self.d_model = d_model
        self.position_encoding = PositionEmbeddingSine(d_model)
        self.convs = nn.ModuleList()
        for channels in backbone_channel_list:
            level = nn.Sequential()
            level.add_module("conv", nn.Conv2d(channels, d_model, kernel_size=1))
            self.convs.append(level)
        self.top_down_levels = set(top_down_levels)

    def forward(self, stages: list[Tensor]) -> tuple[list[Tensor], list[Tensor]]:
        """Trunk stages (fine to coarse) to same-order FPN levels and position encodings."""
        last = len(self.convs) - 1
        features: list[Tensor] = [stages[0]] * len(stages)
        previous = None
        for level in range(last, -1, -1):
            lateral = self.convs[last - level](stages[level])
            if level in self.top_down_levels and previous is not None:
                top_down = F.interpolate(previous.to(torch.float32), scale_factor=2.0,
                                         mode="nearest")
                previous = lateral + top_down
            else:
                previous = lateral
            features[level] = previous
        return features, [self.position_encoding(f) for f in features]


class ImageEncoder(nn.Module):
    def __init__(self, trunk: Hiera, neck: FpnNeck, scalp: int = 1) -> None:
        super().__init__()
        if trunk.channel_list != list(neck_channels(neck)):
            raise ValueError("trunk and neck channel lists differ")
        self.trunk = trunk
        self.neck = neck
        self.scalp = scalp

    def forward(self, images: Tensor) -> BackboneOutput:
        features, positions = self.neck(self.trunk(images))
        if self.scalp:
            features, positions = features[: -self.scalp], positions[: -self.scalp]
        return BackboneOutput(features, positions)


def neck_channels(neck: FpnNeck) -> list[int]:
    return [level.conv.in_channels for level in neck.convs]
