"""LiteMedSAM: TinyViT encoder, SAM prompt encoder and SAM mask decoder.

Module names match the state dict of LiteMedSAM's released checkpoint
(`image_encoder.*`, `prompt_encoder.*`, `mask_decoder.*`), so it loads strictly.
"""

from __future__ import annotations

from torch import Tensor, nn

from model.networks.mask_decoder import MaskDecoder
from model.networks.prompt_encoder import PromptEncoder
from model.networks.tiny_vit import TinyViT
from model.networks.transformer import TwoWayTransformer

IMAGE_SIZE = 256
EMBEDDING_SIZE = 64


class LiteMedSAM(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.image_encoder = TinyViT(img_size=IMAGE_SIZE)
        self.prompt_encoder = PromptEncoder(
            embed_dim=256,
            image_embedding_size=(EMBEDDING_SIZE, EMBEDDING_SIZE),
            input_image_size=(IMAGE_SIZE, IMAGE_SIZE),
            mask_in_chans=16,
        )
        self.mask_decoder = MaskDecoder(
            transformer_dim=256,
            transformer=TwoWayTransformer(depth=2, embedding_dim=256, mlp_dim=2048, num_heads=8),
            num_multimask_outputs=3,
            iou_head_depth=3,
            iou_head_hidden_dim=256,
        )

    def decode(
        self,
        image_embedding: Tensor,
        boxes: Tensor | None = None,
        points: tuple[Tensor, Tensor] | None = None,
        mask_input: Tensor | None = None,
        multimask_output: bool = False,
    ) -> tuple[Tensor, Tensor]:
        """Low-resolution mask logits (B, M, 256, 256) and IoU (B, M) for one embedding.

        Boxes (B, 4) and points (B, N, 2) are in the 256-pixel model grid.
        """
        sparse, dense = self.prompt_encoder(points=points, boxes=boxes, masks=mask_input)
        return self.mask_decoder(
            image_embeddings=image_embedding,
            image_pe=self.prompt_encoder.get_dense_pe(),
            sparse_prompt_embeddings=sparse,
            dense_prompt_embeddings=dense,
            multimask_output=multimask_output,
        )

    def forward(self, image: Tensor, boxes: Tensor) -> tuple[Tensor, Tensor]:
        """Single-mask logits and IoU for (B, 3, 256, 256) images and (B, 4) boxes."""
        return self.decode(self.image_encoder(image), boxes=boxes)
