"""Hiera, SAM 2's hierarchical image encoder trunk (state-dict prefix image_encoder.trunk).

Four stages; at each stage change the queries are max-pooled 2x2 (resolution
halves, width and heads double). Blocks attend within windows except the
listed global blocks; a windowed position embedding (a background embedding
interpolated to the grid plus a tiled window embedding) is added after the
7x7 stride-4 patch embedding.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from model.networks.common import MLP


def window_partition(x: Tensor, window: int) -> tuple[Tensor, tuple[int, int]]:
    """(B, H, W, C) to (B * windows, window, window, C), zero-padding H and W up."""
    batch, height, width, channels = x.shape
    pad_h = (window - height % window) % window
    pad_w = (window - width % window) % window
    if pad_h or pad_w:
        x = F.pad(x, (0, 0, 0, pad_w, 0, pad_h))
    padded = (height + pad_h, width + pad_w)
    x = x.view(batch, padded[0] // window, window, padded[1] // window, window, channels)
    return x.permute(0, 1, 3, 2, 4, 5).reshape(-1, window, window, channels), padded


def window_unpartition(
    windows: Tensor, window: int, padded: tuple[int, int], size: tuple[int, int]
) -> Tensor:
    """Inverse of `window_partition`, cropping the padding."""
    rows, cols = padded[0] // window, padded[1] // window
    batch = windows.shape[0] // (rows * cols)
    x = windows.reshape(batch, rows, cols, window, window, -1)
    x = x.permute(0, 1, 3, 2, 4, 5).reshape(batch, padded[0], padded[1], -1)
    return x[:, : size[0], : size[1]]


def pool_2x2(x: Tensor) -> Tensor:
    """Max-pool a (B, H, W, C) map by 2."""
    return F.max_pool2d(x.permute(0, 3, 1, 2), kernel_size=2, stride=2).permute(0, 2, 3, 1)


class MultiScaleAttention(nn.Module):
    def __init__(self, dim: int, dim_out: int, num_heads: int, pool_queries: bool) -> None:
        super().__init__()
        self.num_heads = num_heads
        self.pool_queries = pool_queries
        self.qkv = nn.Linear(dim, dim_out * 3)
        self.proj = nn.Linear(dim_out, dim_out)

    def forward(self, x: Tensor) -> Tensor:
        batch, height, width, _ = x.shape
        qkv = self.qkv(x).reshape(batch, height * width, 3, self.num_heads, -1)
        q, k, v = torch.unbind(qkv, 2)
        if self.pool_queries:
            q = pool_2x2(q.reshape(batch, height, width, -1))
            height, width = q.shape[1:3]
            q = q.reshape(batch, height * width, self.num_heads, -1)
        out = F.scaled_dot_product_attention(q.transpose(1, 2), k.transpose(1, 2),
                                             v.transpose(1, 2))
        out = out.transpose(1, 2).reshape(batch, height, width, -1)
        return self.proj(out)


class MultiScaleBlock(nn.Module):
    def __init__(
        self, dim: int, dim_out: int, num_heads: int, window: int, pool_queries: bool
    ) -> None:
        super().__init__()
        self.dim, self.dim_out = dim, dim_out
        self.window = window
        self.pool_queries = pool_queries
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attn = MultiScaleAttention(dim, dim_out, num_heads, pool_queries)
        self.norm2 = nn.LayerNorm(dim_out, eps=1e-6)
        self.mlp = MLP(dim_out, 4 * dim_out, dim_out, 2, activation=nn.GELU)
        if dim != dim_out:
            self.proj = nn.Linear(dim, dim_out)

    def forward(self, x: Tensor) -> Tensor:
        shortcut = x
        x = self.norm1(x)
        if self.dim != self.dim_out:
            shortcut = self.proj(x)
            if self.pool_queries:
                shortcut = pool_2x2(shortcut)
        window = self.window
        if window:
            size = x.shape[1:3]
            x, padded = window_partition(x, window)
        x = self.attn(x)
        if window:
            if self.pool_queries:
                window //= 2
                size = shortcut.shape[1:3]
                padded = tuple(s + (window - s % window) % window for s in size)
            x = window_unpartition(x, window, padded, size)
        x = shortcut + x
        return x + self.mlp(self.norm2(x))


class PatchEmbed(nn.Module):
    def __init__(self, embed_dim: int) -> None:
        super().__init__()
        self.proj = nn.Conv2d(3, embed_dim, kernel_size=7, stride=4, padding=3)

    def forward(self, x: Tensor) -> Tensor:
        return self.proj(x).permute(0, 2, 3, 1)


class Hiera(nn.Module):
    """Returns one (B, C, H, W) map per stage, highest resolution first."""

    def __init__(
        self,
        embed_dim: int,
        num_heads: int,
        stages: Sequence[int],
        global_att_blocks: Sequence[int],
        window_spec: Sequence[int],
        window_pos_embed_bkg_spatial_size: Sequence[int],
    ) -> None:
        super().__init__()
        if len(stages) != len(window_spec):
            raise ValueError("one window size per stage is needed")
        self.stage_ends = [sum(stages[: i + 1]) - 1 for i in range(len(stages))]
        pool_blocks = {end + 1 for end in self.stage_ends[:-1]}
        self.patch_embed = PatchEmbed(embed_dim)
        self.pos_embed = nn.Parameter(torch.zeros(1, embed_dim, *window_pos_embed_bkg_spatial_size))
        self.pos_embed_window = nn.Parameter(
            torch.zeros(1, embed_dim, window_spec[0], window_spec[0])
        )
        self.blocks = nn.ModuleList()
        stage = 0
        dim = embed_dim
        for index in range(sum(stages)):
            # A stage's first block still uses the previous stage's window (it pools).
            window = 0 if index in global_att_blocks else window_spec[stage]
            dim_out = dim
            if index in pool_blocks:
                dim_out, num_heads = dim * 2, num_heads * 2
                stage += 1
            self.blocks.append(MultiScaleBlock(dim, dim_out, num_heads, window,
                                               pool_queries=index in pool_blocks))
            dim = dim_out
        self.channel_list = [self.blocks[end].dim_out for end in self.stage_ends[::-1]]

    def position_embedding(self, size: tuple[int, int]) -> Tensor:
        background = F.interpolate(self.pos_embed, size=size, mode="bicubic")
        window = self.pos_embed_window
        tiles = [b // w for b, w in zip(background.shape, window.shape, strict=True)]
        return (background + window.tile(tiles)).permute(0, 2, 3, 1)

    def forward(self, x: Tensor) -> list[Tensor]:
        x = self.patch_embed(x)
        x = x + self.position_embedding(tuple(x.shape[1:3]))
        outputs = []
        for index, block in enumerate(self.blocks):
            x = block(x)
            if index in self.stage_ends:
                outputs.append(x.permute(0, 3, 1, 2))
        return outputs
