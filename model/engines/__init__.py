"""Segmentation engines behind one interface (see base.Engine) and a registry by name."""
