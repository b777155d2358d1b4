"""Segmentation models, preprocessing and engines (pure torch, no Django)."""
