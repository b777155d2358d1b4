"""Anchors: the chain head (entry count and head hash), signed with the audit key, appended to
a file outside the database (``settings.AUDIT_ANCHOR_PATH``).

A database writer can cut entries off the end of the trail or rebuild it, but cannot take back
what an anchor recorded: ``verify`` checks that every anchored entry is still there with the
same hash. Anchors are written when an entry whose number is a multiple of
``AUDIT_ANCHOR_EVERY`` commits, after every intact check (``audit_verify``) and by
``manage.py audit_anchor`` (cron). One line of JSON per anchor, appended with one write under
an exclusive lock, so processes writing at once do not interleave.

Make the file append-only for the service account (``chattr +a``) or ship it off the machine
(syslog, WORM storage): see docs/security.md for who can and cannot defeat it.
"""
import fcntl
import hashlib
import hmac
import json
import logging
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from .chain import canonical_json, derived_key, timestamp

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Anchor:
    count: int  # entries in the trail when anchored (the head's seq)
    head_hash: str
    at: str  # UTC time of anchoring
    line: int  # line number in the anchor file, for messages


class AnchorFileDamaged(Exception):
    """A line of the anchor file is not an anchor signed with the audit key."""


def anchor_path() -> Path:
    return Path(settings.AUDIT_ANCHOR_PATH)


def _mac(count: int, head_hash: str, at: str) -> str:
    message = canonical_json({"count": count, "head": head_hash, "at": at}).encode()
    return hmac.new(derived_key("audit.anchor"), message, hashlib.sha256).hexdigest()


def write_anchor(count: int, head_hash: str, at: datetime | None = None) -> None:
    """Append one signed anchor line."""
    when = timestamp(at or timezone.now())
    line = canonical_json(
        {"count": count, "head": head_hash, "at": when, "mac": _mac(count, head_hash, when)}
    ) + "\n"
    path = anchor_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        os.write(descriptor, line.encode())
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _write_quietly(count: int, head_hash: str) -> None:
    try:
        write_anchor(count, head_hash)
    except OSError:
        # The entry is committed; failing the user's request now would not undo it. The
        # missing anchor shows up in audit_verify ("no anchor for the last ... entries").
        logger.exception("audit anchor for entry #%s could not be written to %s",
                         count, anchor_path())


def anchor_when_due(seq: int, head_hash: str) -> None:
    """Called by the writer of entry ``seq``: anchors it once its transaction commits, if its
    number falls on the interval."""
    every = int(getattr(settings, "AUDIT_ANCHOR_EVERY", 0) or 0)
    if every > 0 and seq % every == 0:
        transaction.on_commit(lambda: _write_quietly(seq, head_hash))


def read_anchors() -> list[Anchor]:
    """Every anchor in the file, in file order; [] when there is no file. Raises
    ``AnchorFileDamaged`` for a line that is not an anchor signed with the audit key."""
    path = anchor_path()
    if not path.exists():
        return []
    anchors = []
    with open(path, encoding="utf-8") as stream:
        for number, text in enumerate(stream, start=1):
            if not text.strip():
                continue
            try:
                record = json.loads(text)
                count, head, at, mac = (record["count"], record["head"], record["at"],
                                        record["mac"])
            except (ValueError, KeyError, TypeError):
                raise AnchorFileDamaged(f"line {number} of {path} is not an anchor") from None
            if not (isinstance(count, int) and isinstance(head, str) and isinstance(at, str)
                    and isinstance(mac, str)
                    and hmac.compare_digest(mac, _mac(count, head, at))):
                raise AnchorFileDamaged(
                    f"line {number} of {path} is not signed with the audit key"
                )
            anchors.append(Anchor(count, head, at, number))
    return anchors
