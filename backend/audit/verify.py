"""Walking the hash chain: finds the first entry that was altered, inserted with a wrong hash,
removed or reordered, and a tail cut off behind the chain head's back."""
from dataclasses import dataclass

from django.db.models import Subquery

from .chain import GENESIS_HASH, HASHED_FIELDS, entry_hash
from .models import AuditChainHead, AuditEntry


@dataclass(frozen=True)
class ChainReport:
    intact: bool
    count: int  # entries checked
    head_hash: str
    broken_seq: int | None = None  # the first entry (by position) that does not fit
    problem: str = ""

    @property
    def message(self) -> str:
        if self.intact:
            return f"chain intact ({self.count} entries)"
        return f"chain broken at entry #{self.broken_seq}: {self.problem}"

    def as_dict(self) -> dict:
        return {
            "intact": self.intact,
            "count": self.count,
            "head_hash": self.head_hash,
            "broken_seq": self.broken_seq,
            "problem": self.problem,
            "message": self.message,
        }


def verify_chain() -> ChainReport:
    """Check every entry up to the chain head as it stands when the walk starts; entries
    written meanwhile are left to the next walk. Needs no lock, so writers are not held up."""
    head = AuditChainHead.objects.filter(id=1).first()
    last_seq, head_hash = (head.last_seq, head.last_hash) if head else (0, GENESIS_HASH)
    expected_seq, prev_hash = 1, GENESIS_HASH

    def broken(seq: int, problem: str) -> ChainReport:
        return ChainReport(False, seq - 1, head_hash, seq, problem)

    entries = AuditEntry.objects.filter(seq__lte=last_seq).order_by("seq")
    for entry in entries.values(*HASHED_FIELDS, "entry_hash").iterator(chunk_size=2000):
        if entry["seq"] != expected_seq:
            return broken(expected_seq, f"entry missing (next present is #{entry['seq']})")
        if entry["prev_hash"] != prev_hash:
            return broken(expected_seq, "does not link to the entry before it")
        if entry_hash(entry) != entry["entry_hash"]:
            return broken(expected_seq, "content does not match its hash (altered)")
        prev_hash = entry["entry_hash"]
        expected_seq += 1
    if expected_seq - 1 != last_seq:
        return broken(expected_seq, f"entries #{expected_seq}..#{last_seq} missing")
    if prev_hash != head_hash:
        return broken(last_seq, "the last entry's hash differs from the chain head")
    if head is None and AuditEntry.objects.exists():
        return broken(1, "entries present but the chain head is missing")
    # One statement, so an entry committed by a writer meanwhile moves the head with it.
    current_head = AuditChainHead.objects.filter(id=1).values("last_seq")[:1]
    beyond = AuditEntry.objects.filter(seq__gt=Subquery(current_head)).order_by("seq").first()
    if beyond is not None:
        return broken(beyond.seq, "entry beyond the chain head (inserted behind its back)")
    return ChainReport(True, last_seq, head_hash)
