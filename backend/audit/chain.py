"""The hash chain: how an entry's content is made canonical and hashed.

Each entry's hash is an HMAC-SHA256, under the audit key (``settings.AUDIT_CHAIN_KEY``, kept
outside the database), of its canonical content, which includes the previous entry's hash.
Someone who can write the database but does not hold the key cannot recompute the hashes of a
rewritten history. Trails begun before the chain was keyed hold plain sha256 entries at their
start; the ``audit.chain_keyed`` entry that follows them (keyed, linking to the last of them)
vouches for them, see ``verify``.
"""
import hashlib
import hmac
import json
import math
import re
from datetime import UTC, datetime

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

GENESIS_HASH = "0" * 64
# The entry that vouches for the plain sha256 entries written before the chain was keyed.
KEYED_MARKER = "audit.chain_keyed"

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
    "site_id",  # hashed where set (see ``_content``)
)
SITE_FIELD = "site_id"


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
        return storable_text(value)
    return value


_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def storable_text(text: str) -> str:
    """``text`` with what no database text column holds (NUL, and lone UTF-16 surrogates,
    which a JSON body's ``"\\ud800"`` decodes to) replaced by U+FFFD, so an entry about any
    input can be written, hashed and read back alike."""
    return _UNSTORABLE.sub("\ufffd", text)


def normalise(value):
    """What a JSON column gives back after a round trip, so hashing before and after agree."""
    return _storable(json.loads(canonical_json(value if value is not None else {})))


def timestamp(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def derived_key(purpose: str) -> bytes:
    """One key per use (chain entries, anchors) derived from the audit key."""
    key = getattr(settings, "AUDIT_CHAIN_KEY", "")
    if not key:
        raise ImproperlyConfigured(
            "The audit trail needs its key: set MEDSAM_AUDIT_KEY or MEDSAM_AUDIT_KEY_FILE."
        )
    return hmac.new(key.encode(), purpose.encode(), hashlib.sha256).digest()


def _content(fields: dict) -> bytes:
    content = {name: fields[name] for name in HASHED_FIELDS if name != SITE_FIELD}
    # The site joined the hashed content when entries began to carry it; an entry without one
    # hashes as before, so the entries written earlier still verify, and setting or clearing
    # the site of a stored entry breaks its hash.
    if fields.get(SITE_FIELD) is not None:
        content[SITE_FIELD] = fields[SITE_FIELD]
    content["at"] = timestamp(content["at"])
    return canonical_json(content).encode()


def entry_hash(fields: dict) -> str:
    """The keyed hash every entry written now carries."""
    return hmac.new(derived_key("audit.chain"), _content(fields), hashlib.sha256).hexdigest()


def legacy_entry_hash(fields: dict) -> str:
    """The plain sha256 of entries written before the chain was keyed."""
    return hashlib.sha256(_content(fields)).hexdigest()
