"""Which SAM 2 network a checkpoint holds: trunk size, SAM 2.0 or 2.1, image size.

SAM 2.1 differs from 2.0 in three switches: object pointers carry a projected,
signed temporal encoding (`obj_ptr_tpos_proj`), and a memory of a frame where
the object is absent gets a learned embedding added (`no_obj_embed_spatial`).
Everything else below is shared by every released SAM 2 / 2.1 model.
"""

from __future__ import annotations

from dataclasses import dataclass

VERSIONS = ("2.0", "2.1")
IMAGE_SIZES = (256, 512, 1024)
BACKBONE_STRIDE = 16
HIDDEN_DIM = 256
MEMORY_DIM = 64
NUM_MASKMEM = 7
MAX_OBJECT_POINTERS = 16


@dataclass(frozen=True)
class HieraSpec:
    embed_dim: int
    num_heads: int
    stages: tuple[int, ...]
    global_att_blocks: tuple[int, ...]
    window_spec: tuple[int, ...] = (8, 4, 14, 7)
    window_pos_embed_bkg_spatial_size: tuple[int, int] = (7, 7)

    @property
    def depth(self) -> int:
        return sum(self.stages)

    @property
    def channel_list(self) -> list[int]:
        return [self.embed_dim * 2**i for i in range(len(self.stages))][::-1]


HIERA = {
    "tiny": HieraSpec(96, 1, (1, 2, 7, 2), (5, 7, 9)),
    "small": HieraSpec(96, 1, (1, 2, 11, 2), (7, 10, 13)),
    "base_plus": HieraSpec(112, 2, (2, 3, 16, 3), (12, 16, 20),
                           window_pos_embed_bkg_spatial_size=(14, 14)),
    "large": HieraSpec(144, 2, (2, 6, 36, 4), (23, 33, 43), window_spec=(8, 4, 16, 8)),
}
VARIANT_ALIASES = {"t": "tiny", "s": "small", "b+": "base_plus", "base+": "base_plus",
                   "b": "base_plus", "base-plus": "base_plus", "l": "large"}


@dataclass(frozen=True)
class ModelConfig:
    """variant: tiny, small, base_plus or large; version: '2.0' or '2.1'."""

    variant: str = "tiny"
    version: str = "2.1"
    image_size: int = 1024

    def __post_init__(self) -> None:
        variant = VARIANT_ALIASES.get(self.variant.lower(), self.variant.lower())
        object.__setattr__(self, "variant", variant)
        if variant not in HIERA:
            raise ValueError(f"unknown Hiera variant {self.variant!r}; one of {sorted(HIERA)}")
        if self.version not in VERSIONS:
            raise ValueError(f"unknown SAM 2 version {self.version!r}; one of {VERSIONS}")
        if self.image_size % (2 * BACKBONE_STRIDE) or self.image_size < 128:
            raise ValueError(f"image_size must be a multiple of 32 of at least 128, "
                             f"got {self.image_size}")

    @property
    def hiera(self) -> HieraSpec:
        return HIERA[self.variant]

    @property
    def is_21(self) -> bool:
        return self.version == "2.1"

    @property
    def feature_size(self) -> int:
        return self.image_size // BACKBONE_STRIDE

    @property
    def name(self) -> str:
        return f"sam{self.version}-hiera-{self.variant}-{self.image_size}"
