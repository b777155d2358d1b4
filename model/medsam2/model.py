"""The SAM 2 network (state-dict top level): image encoder, SAM heads, memory.

`MedSAM2Model` holds the weights under SAM 2's key names and offers the steps
the predictors compose: encode an image, condition its features on a memory,
run the prompt encoder and mask decoder, and encode a new memory. Memory
features are stored as bf16 (as SAM 2 does on every device); a mask given to
the memory encoder is sigmoid(20x - 10), binarised first on prompted frames.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from model.medsam2.config import (
    HIDDEN_DIM,
    MAX_OBJECT_POINTERS,
    MEMORY_DIM,
    NUM_MASKMEM,
    ModelConfig,
)
from model.medsam2.hiera import Hiera
from model.medsam2.image_encoder import FpnNeck, ImageEncoder
from model.medsam2.memory_attention import MemoryAttention
from model.medsam2.memory_encoder import MemoryEncoder
from model.medsam2.position import sine_1d
from model.networks.common import MLP
from model.networks.mask_decoder import MaskDecoder, select_outputs
from model.networks.prompt_encoder import PromptEncoder
from model.networks.transformer import TwoWayTransformer

NO_OBJECT_SCORE = -1024.0
STABILITY_FALLBACK = (0.05, 0.98)  # delta, threshold: SAM 2's inference defaults
MEMORY_DTYPE = torch.bfloat16


@dataclass
class FrameFeatures:
    """One image's encoder output: stride-16 features and position encoding
    (B, 256, H, W), and the decoder's high-resolution maps (strides 4 and 8)."""

    vision: Tensor
    vision_pos: Tensor
    high_res: tuple[Tensor, Tensor]

    def expand(self, batch: int) -> FrameFeatures:
        return FrameFeatures(self.vision.expand(batch, -1, -1, -1),
                             self.vision_pos.expand(batch, -1, -1, -1),
                             tuple(h.expand(batch, -1, -1, -1) for h in self.high_res))


@dataclass
class HeadOutput:
    """The SAM heads' result on a frame; masks are logits (-1024 where no object)."""

    low_res_multimasks: Tensor
    ious: Tensor
    low_res_masks: Tensor
    high_res_masks: Tensor
    obj_ptr: Tensor
    object_score_logits: Tensor


@dataclass
class FrameMemory:
    """What a tracked frame leaves for later frames."""

    pred_masks: Tensor
    obj_ptr: Tensor
    object_score_logits: Tensor
    iou: Tensor
    maskmem_features: Tensor | None = None
    maskmem_pos_enc: Tensor | None = None


class MedSAM2Model(nn.Module):
    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        spec = config.hiera
        self.image_size = config.image_size
        self.image_encoder = ImageEncoder(
            Hiera(spec.embed_dim, spec.num_heads, spec.stages, spec.global_att_blocks,
                  spec.window_spec, spec.window_pos_embed_bkg_spatial_size),
            FpnNeck(HIDDEN_DIM, spec.channel_list),
        )
        self.memory_attention = MemoryAttention(HIDDEN_DIM, kv_dim=MEMORY_DIM)
        self.memory_encoder = MemoryEncoder(MEMORY_DIM, HIDDEN_DIM)
        size = config.feature_size
        self.sam_prompt_encoder = PromptEncoder(
            embed_dim=HIDDEN_DIM, image_embedding_size=(size, size),
            input_image_size=(config.image_size, config.image_size), mask_in_chans=16,
        )
        self.sam_mask_decoder = MaskDecoder(
            transformer_dim=HIDDEN_DIM,
            transformer=TwoWayTransformer(depth=2, embedding_dim=HIDDEN_DIM, mlp_dim=2048,
                                          num_heads=8, sam2_mlp=True),
            use_high_res_features=True, iou_prediction_use_sigmoid=True,
            pred_obj_scores=True, pred_obj_scores_mlp=True,
        )
        self.obj_ptr_proj = MLP(HIDDEN_DIM, HIDDEN_DIM, HIDDEN_DIM, 3)
        if config.is_21:
            self.obj_ptr_tpos_proj = nn.Linear(HIDDEN_DIM, MEMORY_DIM)
            self.no_obj_embed_spatial = nn.Parameter(torch.zeros(1, MEMORY_DIM))
        self.mask_downsample = nn.Conv2d(1, 1, kernel_size=4, stride=4)
        self.maskmem_tpos_enc = nn.Parameter(torch.zeros(NUM_MASKMEM, 1, 1, MEMORY_DIM))
        self.no_mem_embed = nn.Parameter(torch.zeros(1, 1, HIDDEN_DIM))
        self.no_mem_pos_enc = nn.Parameter(torch.zeros(1, 1, HIDDEN_DIM))
        self.no_obj_ptr = nn.Parameter(torch.zeros(1, HIDDEN_DIM))
        for parameter in self.parameters(recurse=False):
            nn.init.trunc_normal_(parameter, std=0.02)

    # Image -----------------------------------------------------------------

    def encode_image(self, images: Tensor) -> FrameFeatures:
        """(B, 3, S, S) normalised images to their features."""
        backbone = self.image_encoder(images)
        decoder = self.sam_mask_decoder
        return FrameFeatures(
            vision=backbone.features[-1],
            vision_pos=backbone.positions[-1],
            high_res=(decoder.conv_s0(backbone.features[0]),
                      decoder.conv_s1(backbone.features[1])),
        )

    def without_memory(self, features: FrameFeatures) -> Tensor:
        """Features of a frame decoded on its own (a first prompted frame, an image)."""
        return features.vision + self.no_mem_embed.reshape(1, -1, 1, 1)

    # SAM heads -------------------------------------------------------------

    def sam_heads(
        self,
        pix_feat: Tensor,
        high_res: tuple[Tensor, Tensor],
        points: tuple[Tensor, Tensor] | None = None,
        mask_inputs: Tensor | None = None,
        multimask: bool = False,
    ) -> HeadOutput:
        """Decode (B, 256, H, W) features; points are (B, N, 2) model-pixel (x, y)
        with (B, N) labels; mask_inputs are (B, 1, h, w) logits."""
        batch = pix_feat.shape[0]
        if points is None:
            points = (pix_feat.new_zeros(batch, 1, 2),
                      -torch.ones(batch, 1, dtype=torch.int32, device=pix_feat.device))
        dense_input = None
        if mask_inputs is not None:
            target = self.sam_prompt_encoder.mask_input_size
            dense_input = mask_inputs
            if tuple(mask_inputs.shape[-2:]) != tuple(target):
                dense_input = F.interpolate(mask_inputs.float(), size=target, mode="bilinear",
                                            align_corners=False, antialias=True)
        sparse, dense = self.sam_prompt_encoder(points=points, boxes=None, masks=dense_input)
        decoded = self.sam_mask_decoder.decode(
            pix_feat, self.sam_prompt_encoder.get_dense_pe(), sparse, dense, high_res
        )
        masks, ious, tokens = select_outputs(decoded, multimask, STABILITY_FALLBACK,
                                             multimask_token_for_pointer=True)
        scores = decoded.object_score_logits
        present = scores > 0
        masks = torch.where(present[:, None, None], masks, NO_OBJECT_SCORE).float()
        high_res_masks = F.interpolate(masks, size=(self.image_size, self.image_size),
                                       mode="bilinear", align_corners=False)
        token = tokens[:, 0]
        low_res_best, high_res_best = masks, high_res_masks
        if multimask:
            rows = torch.arange(batch, device=masks.device)
            best = torch.argmax(ious, dim=-1)
            low_res_best = masks[rows, best].unsqueeze(1)
            high_res_best = high_res_masks[rows, best].unsqueeze(1)
            if tokens.shape[1] > 1:
                token = tokens[rows, best]
        weight = present.float()
        obj_ptr = weight * self.obj_ptr_proj(token) + (1 - weight) * self.no_obj_ptr
        return HeadOutput(masks, ious, low_res_best, high_res_best, obj_ptr, scores)

    # Memory ----------------------------------------------------------------

    def encode_memory(
        self, features: FrameFeatures, high_res_masks: Tensor, object_score_logits: Tensor,
        binarize: bool,
    ) -> tuple[Tensor, Tensor]:
        """A frame's memory (bf16 features, fp32 position encoding) from its image
        features and its (B, 1, S, S) mask logits."""
        mask = (high_res_masks > 0).float() if binarize else torch.sigmoid(high_res_masks)
        mask = mask * 20.0 - 10.0
        memory, position = self.memory_encoder(features.vision, mask)
        if self.config.is_21:
            absent = 1 - (object_score_logits > 0).float()
            memory = memory + absent[..., None, None] * self.no_obj_embed_spatial[..., None, None]
        return memory.to(MEMORY_DTYPE), position

    def attend(self, features: FrameFeatures, memory: Tensor, memory_pos: Tensor,
               num_pointers: int = 0) -> Tensor:
        """Current features conditioned on memory tokens (B, M, 64); returns (B, C, H, W)."""
        batch, channels, height, width = features.vision.shape
        current = features.vision.flatten(2).transpose(1, 2)
        current_pos = features.vision_pos.flatten(2).transpose(1, 2)
        out = self.memory_attention(current, current_pos, memory.to(current.dtype),
                                    memory_pos.to(current.dtype), num_pointers)
        return out.transpose(1, 2).reshape(batch, channels, height, width)

    def track_memory(
        self,
        frame: int,
        cond: Mapping[int, FrameMemory],
        non_cond: Mapping[int, FrameMemory],
        num_frames: int,
        reverse: bool,
        batch: int = 1,
    ) -> tuple[Tensor, Tensor, int]:
        """Memory tokens, their positions and the pointer-token count for `frame`:
        every conditioning frame, the 6 previous frames in tracking order, and up
        to 16 object pointers from the past."""
        step = -1 if reverse else 1
        slots: list[tuple[int, FrameMemory]] = [(0, out) for out in cond.values()]
        for t_pos in range(1, NUM_MASKMEM):
            previous = non_cond.get(frame - (NUM_MASKMEM - t_pos) * step)
            if previous is not None:
                slots.append((t_pos, previous))
        tokens, positions = [], []
        for t_pos, out in slots:
            tokens.append(out.maskmem_features.flatten(2).transpose(1, 2).float())
            position = out.maskmem_pos_enc.flatten(2).transpose(1, 2)
            positions.append(position + self.maskmem_tpos_enc[NUM_MASKMEM - t_pos - 1].reshape(
                1, 1, -1))

        max_pointers = min(num_frames, MAX_OBJECT_POINTERS)
        signed = self.config.is_21
        pointers = [
            (((frame - t) * step if signed else abs(frame - t)), out.obj_ptr)
            for t, out in cond.items() if (t >= frame if reverse else t <= frame)
        ]
        for t_diff in range(1, max_pointers):
            t = frame - t_diff * step
            if t < 0 or t >= num_frames:
                break
            out = non_cond.get(t)
            if out is not None:
                pointers.append((t_diff, out.obj_ptr))
        num_pointer_tokens = 0
        if pointers:
            offsets, vectors = zip(*pointers, strict=True)
            obj_ptrs = torch.stack(vectors, dim=1)  # (B, N, 256)
            device = obj_ptrs.device
            if self.config.is_21:
                relative = torch.tensor(offsets, device=device) / (max_pointers - 1)
                obj_pos = self.obj_ptr_tpos_proj(sine_1d(relative, HIDDEN_DIM))
                obj_pos = obj_pos.unsqueeze(0).expand(batch, -1, -1)
            else:
                obj_pos = obj_ptrs.new_zeros(batch, len(offsets), MEMORY_DIM)
            split = HIDDEN_DIM // MEMORY_DIM
            obj_ptrs = obj_ptrs.reshape(batch, -1, split, MEMORY_DIM).flatten(1, 2)
            tokens.append(obj_ptrs)
            positions.append(obj_pos.repeat_interleave(split, dim=1))
            num_pointer_tokens = obj_ptrs.shape[1]
        return torch.cat(tokens, dim=1), torch.cat(positions, dim=1), num_pointer_tokens
