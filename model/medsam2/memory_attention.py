"""SAM 2's memory attention (prefix memory_attention): the current frame's
features attend to themselves and to the memory (past frames' memory features
and object-pointer tokens), with axial rotary position encodings on the image
tokens. Pointer tokens come last in the memory and are not rotated."""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from model.medsam2.position import axial_rope, rotate
from model.networks.transformer import Attention


class RoPEAttention(Attention):
    """Attention whose queries and (memory) keys are rotated by their grid position.

    With `repeat_keys` the key sequence holds several frames of the query grid
    one after another, each rotated like the queries.
    """

    def __init__(
        self,
        embedding_dim: int,
        num_heads: int,
        kv_in_dim: int | None = None,
        repeat_keys: bool = False,
        theta: float = 10000.0,
    ) -> None:
        super().__init__(embedding_dim, num_heads, kv_in_dim=kv_in_dim)
        self.repeat_keys = repeat_keys
        self.theta = theta
        self._rotations: dict[tuple[int, str], Tensor] = {}

    def rotations(self, tokens: int, device) -> Tensor:
        key = (tokens, str(device))
        cached = self._rotations.get(key)
        if cached is None:
            side = int(math.isqrt(tokens))
            if side * side != tokens:
                raise ValueError(f"RoPE needs a square grid, got {tokens} tokens")
            head_dim = self.internal_dim // self.num_heads
            cached = axial_rope(head_dim, side, side, self.theta).to(device)
            self._rotations[key] = cached
        return cached

    def forward(self, q: Tensor, k: Tensor, v: Tensor, num_k_exclude_rope: int = 0) -> Tensor:
        q = self._heads(self.q_proj(q))
        k = self._heads(self.k_proj(k))
        v = self._heads(self.v_proj(v))
        rotations = self.rotations(q.shape[-2], q.device)
        q = rotate(q, rotations)
        rotated = k.shape[-2] - num_k_exclude_rope
        if rotated:
            repeat = rotated // q.shape[-2]
            if repeat != 1 and not self.repeat_keys:
                raise ValueError("keys longer than queries need repeat_keys")
            head = rotate(k[:, :, :rotated], rotations, repeat)
            k = torch.cat([head, k[:, :, rotated:]], dim=2)
        out = F.scaled_dot_product_attention(q, k, v)
        batch, _, tokens, _ = out.shape
        out = out.transpose(1, 2).reshape(batch, tokens, self.internal_dim)
        return self.out_proj(out)


class MemoryAttentionLayer(nn.Module):
    def __init__(self, d_model: int, dim_feedforward: int, kv_dim: int) -> None:
        super().__init__()
        self.self_attn = RoPEAttention(d_model, 1)
        self.cross_attn_image = RoPEAttention(d_model, 1, kv_in_dim=kv_dim, repeat_keys=True)
        self.linear1 = nn.Linear(d_model, dim_feedforward)
        self.linear2 = nn.Linear(dim_feedforward, d_model)
        self.norm1 = nn.LayerNorm(d_model)
        self.norm2 = nn.LayerNorm(d_model)
        self.norm3 = nn.LayerNorm(d_model)

    def forward(self, tgt: Tensor, memory: Tensor, memory_pos: Tensor, num_pointers: int
                ) -> Tensor:
        normed = self.norm1(tgt)
        tgt = tgt + self.self_attn(normed, normed, normed)
        normed = self.norm2(tgt)
        tgt = tgt + self.cross_attn_image(normed, memory + memory_pos, memory,
                                          num_k_exclude_rope=num_pointers)
        normed = self.norm3(tgt)
        return tgt + self.linear2(F.relu(self.linear1(normed)))


class MemoryAttention(nn.Module):
    def __init__(self, d_model: int = 256, num_layers: int = 4, dim_feedforward: int = 2048,
                 kv_dim: int = 64) -> None:
        super().__init__()
        self.d_model = d_model
        self.layers = nn.ModuleList(
            MemoryAttentionLayer(d_model, dim_feedforward, kv_dim) for _ in range(num_layers)
        )
        self.norm = nn.LayerNorm(d_model)

    def forward(self, current: Tensor, current_pos: Tensor, memory: Tensor, memory_pos: Tensor,
                num_pointers: int = 0) -> Tensor:
        """Batch-first tokens: current (B, HW, C), memory (B, M, kv_dim); returns (B, HW, C)."""
        output = current + 0.1 * current_pos
        for layer in self.layers:
            output = layer(output, memory, memory_pos, num_pointers)
        return self.norm(output)
