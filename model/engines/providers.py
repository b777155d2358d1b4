"""Functions that register engines lazily (torch-free, so a Django app can add one at start
without importing torch). The registry calls `provide()` before listing or looking up."""

from __future__ import annotations

from collections.abc import Callable

_PROVIDERS: list[Callable[[], None]] = []


def add_provider(provider: Callable[[], None]) -> None:
    if provider not in _PROVIDERS:
        _PROVIDERS.append(provider)


def provide() -> None:
    for provider in list(_PROVIDERS):
        provider()
