"""SAM's mask decoder: output tokens through the two-way transformer to masks and IoU.

SAM 2 extends it with options that are off for LiteMedSAM: high-resolution
features added while upscaling (`conv_s0`, `conv_s1`), an object-score token
and head, a sigmoid on the IoU head, and a fallback from an unstable
single-mask output to the best multimask output.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from model.networks.common import MLP, LayerNorm2d


@dataclass
class DecoderOutput:
    """Every output token's result: masks (B, 4, 4H, 4W), IoU (B, 4), mask tokens
    (B, 4, C) and object-score logits (B, 1; 10 when the decoder has no object head)."""

    masks: Tensor
    iou: Tensor
    mask_tokens: Tensor
    object_score_logits: Tensor


class MaskDecoder(nn.Module):
    """Predict `num_multimask_outputs + 1` masks at 4x the embedding resolution.

    Mask 0 is the single-mask output; masks 1.. are the multimask outputs.
    """

    def __init__(
        self,
        *,
        transformer_dim: int,
        transformer: nn.Module,
        num_multimask_outputs: int = 3,
        activation: type[nn.Module] = nn.GELU,
        iou_head_depth: int = 3,
        iou_head_hidden_dim: int = 256,
        use_high_res_features: bool = False,
        iou_prediction_use_sigmoid: bool = False,
        pred_obj_scores: bool = False,
        pred_obj_scores_mlp: bool = False,
    ) -> None:
        super().__init__()
        self.transformer_dim = transformer_dim
        self.transformer = transformer
        self.num_multimask_outputs = num_multimask_outputs
        self.num_mask_tokens = num_multimask_outputs + 1
        self.iou_token = nn.Embedding(1, transformer_dim)
        self.mask_tokens = nn.Embedding(self.num_mask_tokens, transformer_dim)
        self.pred_obj_scores = pred_obj_scores
        if pred_obj_scores:
            self.obj_score_token = nn.Embedding(1, transformer_dim)
        self.output_upscaling = nn.Sequential(
            nn.ConvTranspose2d(transformer_dim, transformer_dim // 4, kernel_size=2, stride=2),
            LayerNorm2d(transformer_dim // 4),
            activation(),
            nn.ConvTranspose2d(transformer_dim // 4, transformer_dim // 8, kernel_size=2, stride=2),
            activation(),
        )
        self.use_high_res_features = use_high_res_features
        if use_high_res_features:
            self.conv_s0 = nn.Conv2d(transformer_dim, transformer_dim // 8, kernel_size=1)
            self.conv_s1 = nn.Conv2d(transformer_dim, transformer_dim // 4, kernel_size=1)
        self.output_hypernetworks_mlps = nn.ModuleList(
            MLP(transformer_dim, transformer_dim, transformer_dim // 8, 3)
            for _ in range(self.num_mask_tokens)
        )
        self.iou_prediction_head = MLP(
            transformer_dim, iou_head_hidden_dim, self.num_mask_tokens, iou_head_depth,
            sigmoid_output=iou_prediction_use_sigmoid,
        )
        if pred_obj_scores:
            self.pred_obj_score_head = (
                MLP(transformer_dim, transformer_dim, 1, 3)
                if pred_obj_scores_mlp
                else nn.Linear(transformer_dim, 1)
            )

    def forward(
        self,
        image_embeddings: Tensor,
        image_pe: Tensor,
        sparse_prompt_embeddings: Tensor,
        dense_prompt_embeddings: Tensor,
        multimask_output: bool,
    ) -> tuple[Tensor, Tensor]:
        """Return masks (B, M, 4H, 4W) and predicted IoU (B, M); M is 3 or 1."""
        masks, iou_pred = self.predict_masks(
            image_embeddings, image_pe, sparse_prompt_embeddings, dense_prompt_embeddings
        )
        selected = slice(1, None) if multimask_output else slice(0, 1)
        return masks[:, selected], iou_pred[:, selected]

    def predict_masks(
        self,
        image_embeddings: Tensor,
        image_pe: Tensor,
        sparse_prompt_embeddings: Tensor,
        dense_prompt_embeddings: Tensor,
    ) -> tuple[Tensor, Tensor]:
        """All mask tokens' masks and IoU predictions."""
        output = self.decode(
            image_embeddings, image_pe, sparse_prompt_embeddings, dense_prompt_embeddings
        )
        return output.masks, output.iou

    def decode(
        self,
        image_embeddings: Tensor,
        image_pe: Tensor,
        sparse_prompt_embeddings: Tensor,
        dense_prompt_embeddings: Tensor,
        high_res_features: tuple[Tensor, Tensor] | None = None,
    ) -> DecoderOutput:
        """Every output token's result; `high_res_features` are the (s0, s1) maps after
        `conv_s0`/`conv_s1`, required when the decoder uses them."""
        batch = sparse_prompt_embeddings.shape[0]
        learned = [self.iou_token.weight, self.mask_tokens.weight]
        if self.pred_obj_scores:
            learned.insert(0, self.obj_score_token.weight)
        output_tokens = torch.cat(learned, dim=0)
        first = 1 if self.pred_obj_scores else 0
        tokens = torch.cat(
            [output_tokens.unsqueeze(0).expand(batch, -1, -1), sparse_prompt_embeddings], dim=1
        )
        if image_embeddings.shape[0] != batch:
            image_embeddings = torch.repeat_interleave(image_embeddings, batch, dim=0)
        src = image_embeddings + dense_prompt_embeddings
        pos_src = torch.repeat_interleave(image_pe, batch, dim=0)
        _, channels, h, w = src.shape

        hs, src = self.transformer(src, pos_src, tokens)
        iou_token_out = hs[:, first]
        mask_tokens_out = hs[:, first + 1 : first + 1 + self.num_mask_tokens]

        src = src.transpose(1, 2).reshape(batch, channels, h, w)
        if self.use_high_res_features:
            if high_res_features is None:
                raise ValueError("this decoder needs the high-resolution features")
            upconv1, norm, act1, upconv2, act2 = self.output_upscaling
            feat_s0, feat_s1 = high_res_features
            upscaled = act1(norm(upconv1(src) + feat_s1))
            upscaled = act2(upconv2(upscaled) + feat_s0)
        else:
            upscaled = self.output_upscaling(src)
        hyper_in = torch.stack(
            [mlp(mask_tokens_out[:, i]) for i, mlp in enumerate(self.output_hypernetworks_mlps)],
            dim=1,
        )
        _, up_channels, up_h, up_w = upscaled.shape
        masks = (hyper_in @ upscaled.reshape(batch, up_channels, up_h * up_w)).reshape(
            batch, -1, up_h, up_w
        )
        iou = self.iou_prediction_head(iou_token_out)
        if self.pred_obj_scores:
            object_score_logits = self.pred_obj_score_head(hs[:, 0])
        else:
            object_score_logits = 10.0 * iou.new_ones(iou.shape[0], 1)
        return DecoderOutput(masks, iou, mask_tokens_out, object_score_logits)


def stability_scores(mask_logits: Tensor, delta: float) -> Tensor:
    """IoU between the masks thresholded at +delta and -delta, per (B, M) mask."""
    flat = mask_logits.flatten(-2)
    inner = torch.sum(flat > delta, dim=-1).float()
    outer = torch.sum(flat > -delta, dim=-1).float()
    return torch.where(outer > 0, inner / outer, 1.0)


def select_outputs(
    output: DecoderOutput,
    multimask_output: bool,
    stability_fallback: tuple[float, float] | None = None,
    multimask_token_for_pointer: bool = False,
) -> tuple[Tensor, Tensor, Tensor]:
    """(masks, IoU, pointer tokens) as SAM 2 selects them.

    Multimask: tokens 1..3. Single mask: token 0, unless `stability_fallback`
    (delta, threshold) is given and token 0's stability score is below the
    threshold, when the multimask output with the best IoU replaces it. The
    pointer token is token 0, or tokens 1..3 for multimask output when
    `multimask_token_for_pointer`.
    """
    masks, iou = output.masks, output.iou
    if multimask_output:
        selected_masks, selected_iou = masks[:, 1:], iou[:, 1:]
    elif stability_fallback is not None:
        delta, threshold = stability_fallback
        batch = torch.arange(masks.shape[0], device=masks.device)
        best = torch.argmax(iou[:, 1:], dim=-1)
        best_masks = masks[:, 1:][batch, best].unsqueeze(1)
        best_iou = iou[:, 1:][batch, best].unsqueeze(1)
        stable = stability_scores(masks[:, 0:1], delta) >= threshold
        selected_masks = torch.where(stable[..., None, None], masks[:, 0:1], best_masks)
        selected_iou = torch.where(stable, iou[:, 0:1], best_iou)
    else:
        selected_masks, selected_iou = masks[:, 0:1], iou[:, 0:1]
    if multimask_output and multimask_token_for_pointer:
        tokens = output.mask_tokens[:, 1:]
    else:
        tokens = output.mask_tokens[:, 0:1]
    return selected_masks, selected_iou, tokens
