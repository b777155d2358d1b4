"""Position encodings of SAM 2: 2D sine (FPN neck, memory encoder), 1D sine
(object-pointer temporal offsets) and axial rotary encodings (memory attention)."""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn


class PositionEmbeddingSine(nn.Module):
    """DETR's normalised 2D sine encoding of a (B, C, H, W) map's grid; no weights."""

    def __init__(self, num_pos_feats: int, temperature: float = 10000.0) -> None:
        super().__init__()
        if num_pos_feats % 2:
            raise ValueError("num_pos_feats must be even")
        self.half = num_pos_feats // 2
        self.temperature = temperature
        self._cache: dict[tuple[int, int, str], Tensor] = {}

    def grid(self, height: int, width: int, device: torch.device) -> Tensor:
        """The (C, H, W) encoding, computed once per size and device."""
        key = (height, width, str(device))
        cached = self._cache.get(key)
        if cached is None:
            eps, scale = 1e-6, 2 * math.pi
            ys = torch.arange(1, height + 1, dtype=torch.float32, device=device)
            xs = torch.arange(1, width + 1, dtype=torch.float32, device=device)
            ys = ys / (ys[-1:] + eps) * scale
            xs = xs / (xs[-1:] + eps) * scale
            dim_t = torch.arange(self.half, dtype=torch.float32, device=device)
            dim_t = self.temperature ** (2 * (dim_t // 2) / self.half)
            pos_y = _interleave_sin_cos(ys[:, None] / dim_t)[:, None, :].expand(-1, width, -1)
            pos_x = _interleave_sin_cos(xs[:, None] / dim_t)[None, :, :].expand(height, -1, -1)
            cached = torch.cat([pos_y, pos_x], dim=-1).permute(2, 0, 1).contiguous()
            self._cache[key] = cached
        return cached

    def forward(self, x: Tensor) -> Tensor:
        encoding = self.grid(x.shape[-2], x.shape[-1], x.device)
        return encoding[None].expand(x.shape[0], -1, -1, -1).to(x.dtype)


def _interleave_sin_cos(angles: Tensor) -> Tensor:
    """sin of even channels and cos of odd ones, interleaved back in channel order."""
    return torch.stack([angles[:, 0::2].sin(), angles[:, 1::2].cos()], dim=2).flatten(1)


def sine_1d(positions: Tensor, dim: int, temperature: float = 10000.0) -> Tensor:
    """(N,) positions to (N, dim): sines then cosines (the Transformer's encoding)."""
    half = dim // 2
    dim_t = torch.arange(half, dtype=torch.float32, device=positions.device)
    dim_t = temperature ** (2 * (dim_t // 2) / half)
    angles = positions.unsqueeze(-1) / dim_t
    return torch.cat([angles.sin(), angles.cos()], dim=-1)


def axial_rope(dim: int, width: int, height: int, theta: float = 10000.0) -> Tensor:
    """Complex rotations (width * height, dim // 2) for a row-major grid: the first
    half of the pairs rotate with x, the second half with y."""
    freqs = 1.0 / (theta ** (torch.arange(0, dim, 4)[: dim // 4].float() / dim))
    index = torch.arange(width * height, dtype=torch.float32)
    t_x = index % width
    t_y = torch.div(index, width, rounding_mode="floor")
    angles_x = torch.outer(t_x, freqs)
    angles_y = torch.outer(t_y, freqs)
    return torch.cat(
        [torch.polar(torch.ones_like(angles_x), angles_x),
         torch.polar(torch.ones_like(angles_y), angles_y)],
        dim=-1,
    )


def rotate(x: Tensor, rotations: Tensor, repeat: int = 1) -> Tensor:
    """Apply (N, D/2) complex rotations to (B, heads, N * repeat, D) in float32."""
    pairs = torch.view_as_complex(x.float().reshape(*x.shape[:-1], -1, 2))
    if repeat > 1:
        rotations = rotations.repeat(repeat, 1)
    rotated = torch.view_as_real(pairs * rotations).flatten(-2)
    return rotated.type_as(x)
