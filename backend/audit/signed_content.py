"""How to recompute, from the stored bytes, the content hash of each kind of signed record.

A signature is checked against the record's content as it is now, never against a hash
stored beside it: someone who rewrites a mask in the database leaves its stored hash alone.
Each app that signs a kind of record registers how its content hash is computed
(``register("annotations.maskversion", fn)`` in its ``AppConfig.ready``); ``fn`` takes the
record's primary key (a string) and returns the sha256, or raises ``ContentUnavailable``.
``audit_verify`` checks every signature of a registered kind against its record, and the rest
for their own integrity only (binding and trail entry).
"""
from collections.abc import Callable

Recompute = Callable[[str], str]

_registry: dict[str, Recompute] = {}


class ContentUnavailable(Exception):
    """The signed record is gone or its content cannot be read; ``str()`` says why."""


def register(object_type: str, recompute: Recompute) -> None:
    _registry[object_type] = recompute


def registered(object_type: str) -> bool:
    return object_type in _registry


def current_sha256(object_type: str, object_id: str) -> str:
    """The content hash of the record as stored now; ``ContentUnavailable`` if it cannot be
    computed, KeyError for a kind nobody registered."""
    return _registry[object_type](object_id)
