"""Fixtures for the model tests; nothing here touches Django."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).parent))

from head_ct import HeadCT, load_head_ct, require_cranium  # noqa: E402


@pytest.fixture(scope="session", autouse=True)
def _model_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Keep derived model files (the int8 encoder) in one folder per test session."""
    patch = pytest.MonkeyPatch()
    patch.setenv("MEDSAM_MODEL_CACHE", str(tmp_path_factory.mktemp("model-cache")))
    torch.set_num_threads(max(1, min(2, torch.get_num_threads())))
    yield
    patch.undo()


@pytest.fixture(scope="session")
def weights_path() -> Path:
    from model.weights import LITEMEDSAM_WEIGHTS, verified_path

    return verified_path(LITEMEDSAM_WEIGHTS)


@pytest.fixture(scope="session")
def head_ct() -> HeadCT:
    return load_head_ct(require_cranium())


@pytest.fixture(scope="session")
def fp32_engine():
    from model.engines.registry import get_engine

    return get_engine("litemedsam", device="cpu")


@pytest.fixture(scope="session")
def int8_engine():
    from model.engines.registry import get_engine

    return get_engine("litemedsam-int8")
