from __future__ import annotations

import pytest

from model.engines.base import EngineUnavailable
from model.engines.litemedsam import LiteMedSAMEngine
from model.engines.registry import get_engine, list_engines, register
from model.weights import LITEMEDSAM_WEIGHTS


def test_it_lists_both_litemedsam_engines_for_the_cpu_queue():
    infos = {info.name: info for info in list_engines()}
    assert {"litemedsam", "litemedsam-int8"} <= set(infos)
    for name in ("litemedsam", "litemedsam-int8"):
        assert infos[name].available, infos[name].reason
        assert infos[name].queue == "cpu"
        assert infos[name].weights_sha256 == LITEMEDSAM_WEIGHTS.sha256


def test_an_unknown_engine_name_lists_the_known_ones():
    with pytest.raises(KeyError, match="litemedsam"):
        get_engine("medsam2-nope")


def test_a_second_engine_under_a_taken_name_is_refused():
    class Impostor(LiteMedSAMEngine):
        pass

    with pytest.raises(ValueError, match="already registered"):
        register(Impostor)


def test_an_unavailable_engine_says_why(monkeypatch):
    monkeypatch.setattr(LiteMedSAMEngine, "availability",
                        classmethod(lambda cls: (False, "weights missing: install X")))
    infos = {info.name: info for info in list_engines()}
    assert infos["litemedsam"].reason == "weights missing: install X"
    with pytest.raises(EngineUnavailable, match="install X"):
        get_engine("litemedsam", device="cpu:0")


def test_the_int8_engine_refuses_a_gpu():
    with pytest.raises(EngineUnavailable, match="CPU only"):
        get_engine("litemedsam-int8", device="cuda")
