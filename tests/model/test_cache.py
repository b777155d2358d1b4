"""The embedding cache: least recently used out first, and one computation per key when
several threads ask at once (a worker's prefetch and a live preview of the same slice)."""
import threading
import time

import pytest

from model.engines.cache import LRUCache


def test_the_least_recently_used_entry_goes_first():
    cache = LRUCache(2)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1
    cache.put("c", 3)
    assert "b" not in cache and cache.get("a") == 1 and cache.get("c") == 3
    assert (cache.hits, cache.misses) == (3, 0)


def test_threads_asking_for_one_key_at_once_compute_it_once():
    cache = LRUCache(4)
    calls = []

    def compute():
        calls.append(threading.get_ident())
        time.sleep(0.2)
        return "embedding"

    answers = []
    threads = [threading.Thread(target=lambda: answers.append(cache.get_or_compute("k", compute)))
               for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == ["embedding"] * 4
    assert len(calls) == 1
    assert (cache.misses, cache.hits) == (1, 3)


def test_a_failed_computation_leaves_the_key_to_the_next_caller():
    cache = LRUCache(4)

    def fail():
        raise RuntimeError("encoder failed")

    with pytest.raises(RuntimeError):
        cache.get_or_compute("k", fail)
    assert cache.get_or_compute("k", lambda: 7) == 7
    assert cache.get_or_compute("k", fail) == 7
