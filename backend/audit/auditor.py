"""What auditors do with the trail, shared by the pages and the API. Every function records
the auditor's own read in the trail (HIPAA 164.312(b): reads of audit data are audited too)."""
from collections.abc import Iterator

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from .anchors import write_anchor
from .export import csv_lines
from .filters import TrailFilter
from .models import AuditChainHead, AuditEntry, Signature
from .trail import record_event
from .verify import ChainReport, verify_chain

TRAIL = "audit.auditentry"


def read_trail(actor, form: TrailFilter, page: str | int = 1) -> QuerySet[AuditEntry]:
    """The entries matching a valid ``form``, newest first."""
    record_event(actor=actor, action="audit.read", object_type=TRAIL,
                 new={"filters": form.applied(), "page": str(page)})
    return form.filter(AuditEntry.objects.order_by("-seq"))


def read_entry(actor, seq: int) -> AuditEntry:
    entry = get_object_or_404(AuditEntry, seq=seq)
    record_event(actor=actor, action="audit.read", object_type=TRAIL, object_id=str(seq))
    return entry


def object_history(actor, object_type: str, object_id: str) -> tuple[list, list]:
    """Every entry about one object, oldest first, and the signatures on it."""
    record_event(actor=actor, action="audit.read_history", object_type=TRAIL,
                 new={"object_type": object_type, "object_id": object_id})
    entries = AuditEntry.objects.filter(object_type=object_type, object_id=object_id)
    signatures = Signature.objects.filter(object_type=object_type, object_id=object_id)
    return list(entries.order_by("seq")), list(signatures.select_related("audit_entry"))


def export_trail(actor, form: TrailFilter) -> Iterator[str]:
    """CSV lines of the matching entries, oldest first, as far as the chain reached when the
    export began; the export's own entry records that range."""
    head = AuditChainHead.objects.filter(id=1).first()
    last_seq = head.last_seq if head else 0
    record_event(actor=actor, action="audit.export", object_type=TRAIL,
                 new={"filters": form.applied(), "format": "csv", "through_seq": last_seq})
    entries = form.filter(AuditEntry.objects.filter(seq__lte=last_seq).order_by("seq"))
    return csv_lines(entries.iterator(chunk_size=2000))


def run_verification(actor=None) -> ChainReport:
    """Check the trail; an intact one is anchored as checked (``audit.anchors``)."""
    report = verify_chain()
    if report.intact:
        write_anchor(report.count, report.head_hash)
    record_event(actor=actor, action="audit.verify", object_type=TRAIL, new=report.as_dict())
    return report
