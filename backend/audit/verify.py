"""Checking the trail: the keyed hash chain, the anchors outside the database, and every
signature against its record.

Finds the first entry that was altered, inserted, removed or reordered; a history rewritten
and rehashed by someone without the audit key; a tail cut off (the anchors recorded more);
history rewritten even with the key (an anchored entry's hash changed); and signatures whose
row, trail entry or signed content no longer agree.
"""
import hmac
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Subquery

from . import anchors as anchoring
from .chain import (
    GENESIS_HASH,
    HASHED_FIELDS,
    KEYED_MARKER,
    entry_hash,
    legacy_entry_hash,
)
from .models import AuditChainHead, AuditEntry, Signature
from .signatures import verify_against_record


@dataclass(frozen=True)
class ChainReport:
    intact: bool
    count: int  # entries checked
    head_hash: str
    broken_seq: int | None = None  # the first entry (by position) that does not fit
    problem: str = ""
    anchored_through: int = 0  # the highest entry an anchor vouches for
    anchors: int = 0  # anchors checked
    signatures: int = 0  # signatures checked
    bad_signatures: list[str] = field(default_factory=list)

    @property
    def message(self) -> str:
        if self.intact:
            return f"chain intact ({self.count} entries)"
        if self.broken_seq is not None:
            return f"chain broken at entry #{self.broken_seq}: {self.problem}"
        return self.problem

    @property
    def details(self) -> list[str]:
        """What was checked besides the chain, one line each."""
        return [
            f"anchored through entry #{self.anchored_through} ({self.anchors} anchors in "
            f"{anchoring.anchor_path()})",
            f"{self.signatures} signatures checked against their records, "
            f"{len(self.bad_signatures)} do not verify",
            *self.bad_signatures,
        ]

    def as_dict(self) -> dict:
        return {
            "intact": self.intact,
            "count": self.count,
            "head_hash": self.head_hash,
            "broken_seq": self.broken_seq,
            "problem": self.problem,
            "message": self.message,
            "anchored_through": self.anchored_through,
            "anchors": self.anchors,
            "signatures": self.signatures,
            "bad_signatures": list(self.bad_signatures),
        }


class _Broken(Exception):
    def __init__(self, seq: int | None, problem: str):
        super().__init__(problem)
        self.seq, self.problem = seq, problem


def _walk(last_seq: int) -> str:
    """The chain from entry 1 to ``last_seq``. Entries with plain sha256 hashes are accepted
    only at the start, and only when the ``audit.chain_keyed`` entry right after them vouches
    for exactly that many."""
    expected_seq, prev_hash, unkeyed, keyed = 1, GENESIS_HASH, 0, False
    entries = AuditEntry.objects.filter(seq__lte=last_seq).order_by("seq")
    for entry in entries.values(*HASHED_FIELDS, "entry_hash").iterator(chunk_size=2000):
        if entry["seq"] != expected_seq:
            raise _Broken(expected_seq, f"entry missing (next present is #{entry['seq']})")
        if entry["prev_hash"] != prev_hash:
            raise _Broken(expected_seq, "does not link to the entry before it")
        if hmac.compare_digest(entry_hash(entry), entry["entry_hash"]):
            if unkeyed and not keyed:
                vouched = (entry["new_values"] or {}).get("legacy_through")
                if entry["action"] != KEYED_MARKER or vouched != unkeyed:
                    raise _Broken(1, f"entries #1..#{unkeyed} carry unkeyed hashes that no "
                                  "keyed entry vouches for (rewritten without the audit key)")
            keyed = True
        elif not keyed and legacy_entry_hash(entry) == entry["entry_hash"]:
            unkeyed += 1
        else:
            raise _Broken(expected_seq, "content does not match its hash (altered, or "
                          "rehashed without the audit key)")
        prev_hash = entry["entry_hash"]
        expected_seq += 1
    if expected_seq - 1 != last_seq:
        raise _Broken(expected_seq, f"entries #{expected_seq}..#{last_seq} missing")
    if unkeyed and not keyed:
        raise _Broken(1, f"entries #1..#{unkeyed} carry unkeyed hashes that no keyed entry "
                      "vouches for (rewritten without the audit key)")
    return prev_hash


def _check_anchors(found: list[anchoring.Anchor], last_seq: int) -> int:
    """The highest entry the anchors vouch for; raises where the trail disagrees with one."""
    anchored = sorted(found, key=lambda a: (a.count, a.line))
    hashes = dict(
        AuditEntry.objects.filter(seq__in={a.count for a in anchored if a.count <= last_seq})
        .values_list("seq", "entry_hash")
    )
    for anchor in anchored:
        if anchor.count == 0:
            continue
        if anchor.count > last_seq:
            raise _Broken(last_seq + 1, f"entries #{last_seq + 1}..#{anchor.count} missing: the "
                          f"anchor of {anchor.at} recorded {anchor.count} entries (the trail "
                          "was cut short)")
        if hashes.get(anchor.count) != anchor.head_hash:
            raise _Broken(anchor.count, f"differs from the anchor of {anchor.at} (history "
                          "rewritten)")
    through = anchored[-1].count if anchored else 0
    every = int(getattr(settings, "AUDIT_ANCHOR_EVERY", 0) or 0)
    if every > 0 and last_seq - through >= 2 * every:
        raise _Broken(None, f"no anchor vouches for entries #{through + 1}..#{last_seq} (one is "
                      f"written every {every}): the anchor file {anchoring.anchor_path()} was "
                      "removed, replaced or not written; a cut-off tail would go unnoticed")
    return through


def verify_chain() -> ChainReport:
    """Check every entry up to the chain head as it stands when the walk starts; entries
    written meanwhile are left to the next walk. Needs no lock, so writers are not held up."""
    try:
        # Read before the head: an anchor is written after its entry commits, so every
        # anchor read here names an entry at or below the head read next.
        found = anchoring.read_anchors()
    except anchoring.AnchorFileDamaged as damaged:
        found, damage = [], str(damaged)
    else:
        damage = ""
    head = AuditChainHead.objects.filter(id=1).first()
    last_seq, head_hash = (head.last_seq, head.last_hash) if head else (0, GENESIS_HASH)

    def broken(seq: int | None, problem: str, **checked) -> ChainReport:
        count = seq - 1 if seq is not None else last_seq
        return ChainReport(False, count, head_hash, seq, problem, **checked)

    try:
        if _walk(last_seq) != head_hash:
            raise _Broken(last_seq, "the last entry's hash differs from the chain head")
        if head is None and AuditEntry.objects.exists():
            raise _Broken(1, "entries present but the chain head is missing")
        # One statement, so an entry committed by a writer meanwhile moves the head with it.
        current_head = AuditChainHead.objects.filter(id=1).values("last_seq")[:1]
        beyond = AuditEntry.objects.filter(seq__gt=Subquery(current_head)).order_by("seq").first()
        if beyond is not None:
            raise _Broken(beyond.seq, "entry beyond the chain head (inserted behind its back)")
        if damage:
            raise _Broken(None, f"the anchor file is damaged: {damage}")
        anchored_through = _check_anchors(found, last_seq)
    except _Broken as fault:
        return broken(fault.seq, fault.problem, anchors=len(found))

    signatures = Signature.objects.filter(audit_entry__seq__lte=last_seq).select_related(
        "audit_entry").order_by("id")
    checked, bad = 0, []
    for sig in signatures.iterator(chunk_size=500):
        checked += 1
        check = verify_against_record(sig)
        if not check:
            bad.append(f"signature {sig.pk} on {sig.object_type}:{sig.object_id} "
                       f"({sig.manifestation()}) does not verify: {check.problem}")
    counts = {"anchored_through": anchored_through, "anchors": len(found),
              "signatures": checked, "bad_signatures": bad}
    if bad:
        return broken(None, f"chain intact ({last_seq} entries), but {len(bad)} of {checked} "
                      f"signatures do not verify; the first: {bad[0]}", **counts)
    return ChainReport(True, last_seq, head_hash, **counts)
