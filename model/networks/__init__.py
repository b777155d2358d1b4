"""Network definitions (pure torch); weights are loaded by the engines."""
