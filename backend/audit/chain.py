"""The hash chain: how an entry's content is made canonical and hashed."""
import hashlib
import json
import math
from datetime import UTC, datetime

GENESIS_HASH = "0" * 64

HASHED_FIELDS = (
    "seq",
    "at",
    "actor_id",
    "actor_username",
    "actor_printed_name",
    "action",
    "object_type",
    "object_id",
    "old_values",
    "new_values",
    "reason",
    "client_address",
    "channel",
    "versions",
    "prev_hash",
)


def canonical_json(value) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def _storable(value):
    """Values as every database's JSON column gives them back: PostgreSQL's jsonb prints
    integral floats from 1e16 up as integers, has no negative zero, and cannot hold NaN,
    infinities or NUL characters."""
    if isinstance(value, dict):
        return {_storable(str(key)): _storable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_storable(item) for item in value]
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        if value == 0:
            return 0.0
        if value.is_integer() and abs(value) >= 1e16:
            return int(value)
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    return value


def normalise(value):
    """What a JSON column gives back after a round trip, so hashing before and after agree."""
    return _storable(json.loads(canonical_json(value if value is not None else {})))


def timestamp(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def entry_hash(fields: dict) -> str:
    content = {name: fields[name] for name in HASHED_FIELDS}
    content["at"] = timestamp(content["at"])
    return hashlib.sha256(canonical_json(content).encode()).hexdigest()
