"""Functions that register engines lazily (torch-free, so a Django app can add one at start
without importing torch). The registry calls `provide()` before listing or looking up."""

from __future__ import annotations

import logging
from collections.abc import Callable

logger = logging.getLogger(__name__)
_PROVIDERS: list[Callable[[], None]] = []


def add_provider(provider: Callable[[], None]) -> None:
    if provider not in _PROVIDERS:
        _PROVIDERS.append(provider)


def provide() -> None:
    """Run every provider. One that fails (its database not reachable from this process, say)
    is logged and skipped: it must never hide the engines registered in code."""
    for provider in list(_PROVIDERS):
        try:
            provider()
        except Exception:
            logger.warning("engine provider %s failed; its engines are not listed", provider,
                           exc_info=True)
