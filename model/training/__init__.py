"""Fine-tuning LiteMedSAM's prompt side on a site's confirmed masks (pure torch, no Django).

The image encoder stays frozen, as Medical SAM 2 trains it: every slice is embedded once
(`embedded.embed_examples`), then the mask decoder (and optionally the prompt encoder)
learns from boxes synthesised from the masks within the protocol's tolerance
(`prompts.jittered_box`), with MedSAM's Dice + BCE loss (`finetune.fine_tune`).
`evaluate.dice_scores` measures a network on held-out examples with fixed boxes;
`checkpoint.save_state_dict` writes the full state dict atomically and names it by sha256.
"""
