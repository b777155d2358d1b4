"""TinyViT image encoder in LiteMedSAM's configuration (256 px in, 256 x 64 x 64 out).

LiteMedSAM's patch embedding is two 1x1 convolutions (no striding), so stage 0
(MBConv) runs at full resolution; stages 0 and 1 halve the resolution and
stage 2's merge keeps it, which gives a 64 x 64 grid at the neck.
"""

from __future__ import annotations

import itertools

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from model.networks.common import LayerNorm2d


class ConvBN(nn.Sequential):
    """Convolution without bias followed by batch norm (`c`, `bn`)."""

    def __init__(
        self, in_chans: int, out_chans: int, kernel: int = 1, stride: int = 1,
        pad: int = 0, groups: int = 1,
    ) -> None:
        super().__init__()
        self.add_module("c", nn.Conv2d(in_chans, out_chans, kernel, stride, pad, groups=groups,
                                       bias=False))
        self.add_module("bn", nn.BatchNorm2d(out_chans))

    @torch.no_grad()
    def fused(self) -> nn.Conv2d:
        """One convolution equal to this pair in eval mode."""
        conv, bn = self.c, self.bn
        # Folded in float64 so that the fused layer rounds once, like the pair does.
        scale = bn.weight.double() / torch.sqrt(bn.running_var.double() + bn.eps)
        fused = nn.Conv2d(
            conv.in_channels, conv.out_channels, conv.kernel_size, conv.stride, conv.padding,
            groups=conv.groups, bias=True,
        ).to(conv.weight.device)
        fused.weight.copy_(conv.weight.double() * scale[:, None, None, None])
        fused.bias.copy_(bn.bias.double() - bn.running_mean.double() * scale)
        return fused


class PatchEmbed(nn.Module):
    def __init__(self, in_chans: int, embed_dim: int) -> None:
        super().__init__()
        self.seq = nn.Sequential(
            ConvBN(in_chans, embed_dim // 2), nn.GELU(), ConvBN(embed_dim // 2, embed_dim)
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.seq(x)


class MBConv(nn.Module):
    """Inverted residual: expand 1x1, depthwise 3x3, project 1x1, add, GELU."""

    def __init__(self, chans: int, expand_ratio: float) -> None:
        super().__init__()
        hidden = int(chans * expand_ratio)
        self.conv1 = ConvBN(chans, hidden)
        self.conv2 = ConvBN(hidden, hidden, 3, 1, 1, groups=hidden)
        self.conv3 = ConvBN(hidden, chans)
        self.act = nn.GELU()

    def forward(self, x: Tensor) -> Tensor:
        y = self.act(self.conv1(x))
        y = self.act(self.conv2(y))
        return self.act(self.conv3(y) + x)


class PatchMerging(nn.Module):
    """1x1, depthwise 3x3 (stride 2, or 1 into the last stage), 1x1; returns tokens."""

    def __init__(self, resolution: tuple[int, int], dim: int, out_dim: int, stride: int) -> None:
        super().__init__()
        self.resolution = resolution
        self.conv1 = ConvBN(dim, out_dim)
        self.conv2 = ConvBN(out_dim, out_dim, 3, stride, 1, groups=out_dim)
        self.conv3 = ConvBN(out_dim, out_dim)
        self.act = nn.GELU()

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim == 3:
            h, w = self.resolution
            x = x.reshape(x.shape[0], h, w, -1).permute(0, 3, 1, 2)
        x = self.act(self.conv1(x))
        x = self.act(self.conv2(x))
        return self.conv3(x).permute(0, 2, 3, 1).flatten(1, 2)


class WindowAttention(nn.Module):
    """Attention inside a window with a learned bias per head and per (|dy|, |dx|) offset."""

    def __init__(self, dim: int, num_heads: int, window_size: int) -> None:
        super().__init__()
        self.num_heads = num_heads
        self.head_dim = dim // num_heads
        self.window_size = window_size
        self.norm = nn.LayerNorm(dim)
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        cells = list(itertools.product(range(window_size), range(window_size)))
        offsets: dict[tuple[int, int], int] = {}
        indices = []
        for a in cells:
            for b in cells:
                offset = (abs(a[0] - b[0]), abs(a[1] - b[1]))
                indices.append(offsets.setdefault(offset, len(offsets)))
        self.attention_biases = nn.Parameter(torch.zeros(num_heads, len(offsets)))
        self.register_buffer(
            "bias_index", torch.tensor(indices).view(len(cells), len(cells)), persistent=False
        )

    def forward(self, x: Tensor) -> Tensor:
        """Attention in non-overlapping windows over a (B, H, W, C) grid; same shape out.

        The grid is zero-padded to whole windows, as in training. Windows and heads
        are split with one transpose each way (the layout the export keeps cheap),
        and the output projection runs on the real tokens only.
        """
        batch, h, w, chans = x.shape
        size = self.window_size
        pad_b, pad_r = (size - h % size) % size, (size - w % size) % size
        if pad_b or pad_r:
            x = F.pad(x, (0, 0, 0, pad_r, 0, pad_b))
        nh, nw = (h + pad_b) // size, (w + pad_r) // size
        heads, head_dim = self.num_heads, self.head_dim
        # Each head's slice of the projection holds its q, k and v in that order.
        qkv = self.qkv(self.norm(x)).view(batch, nh, size, nw, size, heads, 3, head_dim)
        qkv = qkv.permute(6, 0, 1, 3, 5, 2, 4, 7).reshape(3, batch * nh * nw, heads, size**2, -1)
        q, k, v = qkv.unbind(0)
        bias = self.attention_biases[:, self.bias_index]
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=bias)
        out = out.view(batch, nh, nw, heads, size, size, head_dim).permute(0, 1, 4, 2, 5, 3, 6)
        out = out.reshape(batch, nh * size, nw * size, chans)
        if pad_b or pad_r:
            out = out[:, :h, :w]
        return self.proj(out)


class FeedForward(nn.Module):
    """Pre-norm MLP (`norm`, `fc1`, `fc2`)."""

    def __init__(self, dim: int, hidden: int) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(dim)
        self.fc1 = nn.Linear(dim, hidden)
        self.fc2 = nn.Linear(hidden, dim)
        self.act = nn.GELU()

    def forward(self, x: Tensor) -> Tensor:
        return self.fc2(self.act(self.fc1(self.norm(x))))


class TinyViTBlock(nn.Module):
    """Window attention, depthwise local convolution, MLP; tokens in and out."""

    def __init__(
        self, dim: int, resolution: tuple[int, int], num_heads: int, window_size: int,
        mlp_ratio: float, local_conv_size: int,
    ) -> None:
        super().__init__()
        self.resolution = resolution
        self.attn = WindowAttention(dim, num_heads, window_size)
        self.mlp = FeedForward(dim, int(dim * mlp_ratio))
        self.local_conv = ConvBN(dim, dim, local_conv_size, 1, local_conv_size // 2, groups=dim)

    def forward(self, x: Tensor) -> Tensor:
        h, w = self.resolution
        batch, tokens, chans = x.shape
        grid = x.view(batch, h, w, chans)
        grid = grid + self.attn(grid)
        # 4-D channel transposes, which ONNX Runtime folds into its conv layout changes.
        grid = self.local_conv(grid.permute(0, 3, 1, 2)).permute(0, 2, 3, 1)
        x = grid.reshape(batch, tokens, chans)
        return x + self.mlp(x)


class Stage(nn.Module):
    """A list of `blocks` and an optional `downsample` (state-dict key names)."""

    def __init__(self, blocks: list[nn.Module], downsample: nn.Module | None) -> None:
        super().__init__()
        self.blocks = nn.ModuleList(blocks)
        self.downsample = downsample

    def forward(self, x: Tensor) -> Tensor:
        for block in self.blocks:
            x = block(x)
        return self.downsample(x) if self.downsample is not None else x


class TinyViT(nn.Module):
    """LiteMedSAM's image encoder: (B, 3, 256, 256) in [0, 1] -> (B, 256, 64, 64)."""

    def __init__(
        self,
        img_size: int = 256,
        in_chans: int = 3,
        embed_dims: tuple[int, ...] = (64, 128, 160, 320),
        depths: tuple[int, ...] = (2, 2, 6, 2),
        num_heads: tuple[int, ...] = (2, 4, 5, 10),
        window_sizes: tuple[int, ...] = (7, 7, 14, 7),
        mlp_ratio: float = 4.0,
        mbconv_expand_ratio: float = 4.0,
        local_conv_size: int = 3,
        out_chans: int = 256,
    ) -> None:
        super().__init__()
        self.patch_embed = PatchEmbed(in_chans, embed_dims[0])
        last = len(depths) - 1
        # Stage i runs at img_size / 2**i, except the last, which keeps the previous size.
        sides = [img_size // 2 ** min(i, last - 1) for i in range(len(depths))]
        self.out_side = sides[-1]
        layers = []
        for i, depth in enumerate(depths):
            side = sides[i]
            if i == 0:
                blocks = [MBConv(embed_dims[0], mbconv_expand_ratio) for _ in range(depth)]
            else:
                blocks = [
                    TinyViTBlock(embed_dims[i], (side, side), num_heads[i], window_sizes[i],
                                 mlp_ratio, local_conv_size)
                    for _ in range(depth)
                ]
            downsample = None
            if i < last:
                stride = 2 if i + 1 < last else 1
                downsample = PatchMerging((side, side), embed_dims[i], embed_dims[i + 1], stride)
            layers.append(Stage(blocks, downsample))
        self.layers = nn.ModuleList(layers)
        self.neck = nn.Sequential(
            nn.Conv2d(embed_dims[-1], out_chans, kernel_size=1, bias=False),
            LayerNorm2d(out_chans),
            nn.Conv2d(out_chans, out_chans, kernel_size=3, padding=1, bias=False),
            LayerNorm2d(out_chans),
        )

    def forward(self, x: Tensor) -> Tensor:
        x = self.patch_embed(x)
        for layer in self.layers:
            x = layer(x)
        return self._neck(x)

    def _neck(self, tokens: Tensor) -> Tensor:
        """`self.neck` run on tokens: the 1x1 convolution as a linear layer and both
        channel norms in channels-last order, which exports without per-channel
        reductions over NCHW and lets the int8 build quantize the 1x1 layer."""
        conv1, norm1, conv3, norm2 = self.neck
        batch, _, chans = tokens.shape
        side = self.out_side
        x = F.linear(tokens, conv1.weight.flatten(1))
        x = F.layer_norm(x, (x.shape[-1],), norm1.weight, norm1.bias, norm1.eps)
        x = conv3(x.view(batch, side, side, -1).permute(0, 3, 1, 2)).permute(0, 2, 3, 1)
        x = F.layer_norm(x, (x.shape[-1],), norm2.weight, norm2.bias, norm2.eps)
        return x.permute(0, 3, 1, 2)


def fuse_conv_bn(module: nn.Module) -> nn.Module:
    """Replace every ConvBN pair inside `module` by one convolution (inference only)."""
    for name, child in module.named_children():
        if isinstance(child, ConvBN):
            setattr(module, name, child.fused())
        else:
            fuse_conv_bn(child)
    return module
