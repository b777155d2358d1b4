"""MedSAM-2: the SAM 2 architecture (Hiera, memory attention, memory encoder),
its checkpoints, a volume predictor and a 2D stream predictor with Medical SAM
2's self-sorting memory bank. Module boundaries follow SAM 2's state-dict
prefixes: `hiera` and `image_encoder` (image_encoder.trunk / .neck),
`memory_attention`, `memory_encoder`, `model` (the SAM2 base network)."""
