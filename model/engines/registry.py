"""Engines by name. The backend's tasks import this module (no Django here).

    from model.engines.registry import get_engine, list_engines
    engine = get_engine("litemedsam-int8")
"""

from __future__ import annotations

import threading

import torch

from model.engines.base import Engine, EngineInfo, EngineUnavailable
from model.engines.litemedsam import LiteMedSAMEngine, LiteMedSAMInt8Engine
from model.engines.medsam2 import MedSAM2Engine, MedSAM2Int8Engine

# Engines known only to the caller (fine-tuned versions the backend stores) register
# themselves through providers before engines are listed or an unknown name is looked up.
from model.engines.providers import provide

# The engine a site without a GPU uses unless a prompt library entry pins another.
DEFAULT_CPU_ENGINE = "litemedsam-int8"

_ENGINES: dict[str, type[Engine]] = {}
_LOADED: dict[tuple[str, str], Engine] = {}
_LOCK = threading.Lock()


def register(engine_class: type[Engine]) -> type[Engine]:
    """Add an engine class under its `name` (usable as a class decorator)."""
    existing = _ENGINES.get(engine_class.name)
    if existing is not None and existing is not engine_class:
        raise ValueError(f"an engine named {engine_class.name!r} is already registered")
    _ENGINES[engine_class.name] = engine_class
    return engine_class


def engine_names() -> list[str]:
    return sorted(_ENGINES)


def list_engines() -> list[EngineInfo]:
    """Every registered engine, whether it can run here and why not, without loading it."""
    provide()
    infos = []
    for name in engine_names():
        engine_class = _ENGINES[name]
        available, reason = engine_class.availability()
        infos.append(EngineInfo(
            name=name,
            available=available,
            reason=reason,
            queue=engine_class.queue,
            version=engine_class.version,
            description=engine_class.description,
            weights_sha256=engine_class.pinned_weights_sha256(),
        ))
    return infos


def get_engine(name: str, device: torch.device | str | None = None) -> Engine:
    """A loaded engine, shared per (name, device) within the process."""
    engine_class = _ENGINES.get(name)
    if engine_class is None:
        provide()
        engine_class = _ENGINES.get(name)
    if engine_class is None:
        raise KeyError(f"unknown engine {name!r}; registered: {', '.join(engine_names())}")
    key = (name, str(device) if device is not None else "auto")
    with _LOCK:
        engine = _LOADED.get(key)
        if engine is None:
            available, reason = engine_class.availability()
            if not available:
                raise EngineUnavailable(f"{name} is unavailable: {reason}")
            engine = engine_class(device=device)
            _LOADED[key] = engine
        return engine


register(LiteMedSAMEngine)
register(LiteMedSAMInt8Engine)
register(MedSAM2Engine)
register(MedSAM2Int8Engine)
