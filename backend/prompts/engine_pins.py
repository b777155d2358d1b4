"""Checking an entry's engine and weights pin against the engines installed on this site.

The registry lives in ``model.engines.registry`` (pure torch, no Django) and is imported only
when a check runs, so the library can be validated for form on a machine without torch.
"""
from __future__ import annotations

from functools import cache

from .source import Problem

REGISTRY_MODULE = "model.engines.registry"


class RegistryMissing(RuntimeError):
    pass


def _registry():
    try:
        from model.engines import registry
    except ImportError as exc:
        raise RegistryMissing(
            f"the engine registry ({REGISTRY_MODULE}) cannot be imported: {exc}"
        ) from exc
    return registry


@cache
def _installed_pin(name: str) -> tuple[str | None, str]:
    """(weights sha256, reason when unknown) of an installed engine, looked up once per run."""
    registry = _registry()
    infos = {info.name: info for info in registry.list_engines()}
    info = infos.get(name)
    if info is None:
        known = ", ".join(sorted(infos)) or "none"
        return None, f"engine {name!r} is not installed here (installed: {known})"
    pinned = getattr(info, "weights_sha256", None)
    if pinned:
        return pinned, ""
    if not info.available:
        return None, f"engine {name!r} is not available here: {info.reason}"
    return registry.get_engine(name).weights_sha256, ""


def engine_problems(content: dict, source: str) -> list[Problem]:
    """Problems with the entry's engine: not installed, or weights that differ from the pin.

    Raises ``RegistryMissing`` when no registry can be imported: the caller decides whether
    that blocks (approving, loading) or is reported as not checked (a form-only check).
    """
    engine = content["engine"]
    installed, reason = _installed_pin(engine["name"])
    if installed is None:
        return [Problem(source, "engine.name", reason)]
    if installed != engine["weights_sha256"]:
        return [
            Problem(
                source,
                "engine.weights_sha256",
                f"pins {engine['weights_sha256']} but the installed {engine['name']} weights are "
                f"{installed}; update the pin only after validating the entry on the new weights",
            )
        ]
    return []


def installed_weights(name: str) -> str | None:
    """The installed engine's weights sha256, or None when it or the registry is missing (a
    template pre-filled with it still has its pin checked at submission)."""
    try:
        return _installed_pin(name)[0]
    except RegistryMissing:
        return None
