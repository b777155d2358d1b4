"""A least-recently-used cache of slice embeddings keyed by image content."""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

import numpy as np

Value = TypeVar("Value")


def content_key(image: np.ndarray) -> str:
    """A digest of an array's dtype, shape and bytes."""
    array = np.ascontiguousarray(image)
    digest = hashlib.blake2b(digest_size=20)
    digest.update(f"{array.dtype.str}{array.shape}".encode())
    digest.update(array.data)
    return digest.hexdigest()


class LRUCache(Generic[Value]):
    def __init__(self, max_entries: int) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self.max_entries = max_entries
        self._entries: OrderedDict[str, Value] = OrderedDict()
        # A worker's job and its live preview (two threads) share one engine's cache.
        self._lock = threading.RLock()
        # Keys being computed now: a second caller waits for the first instead of computing
        # the same embedding beside it (a prefetch and a live preview of one slice).
        self._computing: dict[str, threading.Event] = {}
        self.hits = 0
        self.misses = 0

    def get(self, key: str) -> Value | None:
        with self._lock:
            value = self._entries.get(key)
            if value is None:
                self.misses += 1
                return None
            self.hits += 1
            self._entries.move_to_end(key)
            return value

    def get_or_compute(self, key: str, compute: Callable[[], Value]) -> Value:
        """The cached value for ``key``, or ``compute()`` stored under it; computed once when
        several threads ask for it at the same time (one counts a miss, the others a hit)."""
        while True:
            with self._lock:
                if key in self._entries:
                    return self.get(key)
                running = self._computing.get(key)
                if running is None:
                    running = self._computing[key] = threading.Event()
                    self.misses += 1
                    break
            running.wait()  # then take its value, or compute it if that caller failed
        try:
            value = compute()
            self.put(key, value)
            return value
        finally:
            with self._lock:
                self._computing.pop(key, None)
            running.set()

    def put(self, key: str, value: Value) -> None:
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: str) -> bool:
        return key in self._entries


def as_slice(image) -> np.ndarray:
    """A (rows, cols) float32 image, or ValueError: what every engine's embed_slice takes."""
    image = np.asarray(image, np.float32)
    if image.ndim != 2:
        raise ValueError(f"embed_slice takes a (rows, cols) image, got shape {image.shape}")
    return image
