"""What auditors do with the trail, shared by the pages and the API. Every function records
the auditor's own read in the trail (HIPAA 164.312(b): reads of audit data are audited too),
and shows only what the auditor's site scope allows (``audit.scope``): a site's auditor sees
that site's entries and signatures, the platform operator's auditor (no site) all of them."""
from collections.abc import Iterator

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from .anchors import write_anchor
from .export import csv_lines, read_csv_lines
from .filters import ReadFilter, TrailFilter
from .models import AuditChainHead, AuditEntry, ReadRecord, Signature
from .scope import (
    entry_visible,
    is_platform_auditor,
    visible_entries,
    visible_reads,
    visible_signatures,
)
from .trail import record_event
from .verify import ChainReport, verify_chain

TRAIL = "audit.auditentry"
READ_LOG = "audit.readrecord"


def read_trail(actor, form: TrailFilter, page: str | int = 1) -> QuerySet[AuditEntry]:
    """The entries matching a valid ``form``, newest first."""
    record_event(actor=actor, action="audit.read", object_type=TRAIL,
                 new={"filters": form.applied(), "page": str(page)})
    return form.filter(visible_entries(actor, AuditEntry.objects.order_by("-seq")))


def read_entry(actor, seq: int) -> AuditEntry:
    entry = get_object_or_404(visible_entries(actor), seq=seq)
    record_event(actor=actor, action="audit.read", object_type=TRAIL, object_id=str(seq))
    return entry


def object_history(actor, object_type: str, object_id: str) -> tuple[list, list]:
    """Every entry about one object, oldest first, and the signatures on it."""
    record_event(actor=actor, action="audit.read_history", object_type=TRAIL,
                 new={"object_type": object_type, "object_id": object_id})
    entries = visible_entries(actor).filter(object_type=object_type, object_id=object_id)
    signatures = visible_signatures(
        actor, Signature.objects.filter(object_type=object_type, object_id=object_id))
    return list(entries.order_by("seq")), list(signatures.select_related("audit_entry"))


def export_trail(actor, form: TrailFilter) -> Iterator[str]:
    """CSV lines of the matching entries, oldest first, as far as the chain reached when the
    export began; the export's own entry records that range."""
    head = AuditChainHead.objects.filter(id=1).first()
    last_seq = head.last_seq if head else 0
    record_event(actor=actor, action="audit.export", object_type=TRAIL,
                 new={"filters": form.applied(), "format": "csv", "through_seq": last_seq})
    entries = form.filter(visible_entries(actor).filter(seq__lte=last_seq).order_by("seq"))
    return csv_lines(entries.iterator(chunk_size=2000))


def read_reads(actor, form: ReadFilter, page: str | int = 1) -> QuerySet[ReadRecord]:
    """The read log's records matching a valid ``form``, newest first (issue 20)."""
    record_event(actor=actor, action="audit.read", object_type=READ_LOG,
                 new={"filters": form.applied(), "page": str(page)})
    return form.filter(visible_reads(actor, ReadRecord.objects.order_by("-at", "-id")))


def export_reads(actor, form: ReadFilter) -> Iterator[str]:
    """CSV lines of the matching read records, oldest first, up to the last record written
    when the export began; the export's own entry records that id."""
    last = ReadRecord.objects.order_by("-id").values_list("id", flat=True).first() or 0
    record_event(actor=actor, action="audit.export", object_type=READ_LOG,
                 new={"filters": form.applied(), "format": "csv", "through_id": last})
    records = form.filter(visible_reads(actor).filter(id__lte=last).order_by("id"))
    return read_csv_lines(records.iterator(chunk_size=2000))


def run_verification(actor=None) -> ChainReport:
    """Check the whole trail (it is one chain); an intact one is anchored as checked
    (``audit.anchors``). The full findings go into the trail; a site's auditor is shown them
    narrowed to the site (``scoped_report``)."""
    report = verify_chain()
    if report.intact:
        write_anchor(report.count, report.head_hash)
    record_event(actor=actor, action="audit.verify", object_type=TRAIL, new=report.as_dict())
    return report if actor is None or is_platform_auditor(actor) else scoped_report(
        actor, report)


def scoped_report(actor, report: ChainReport) -> ChainReport:
    """``report`` as a site's auditor sees it: signatures that fail are listed where they are
    the site's own; a break at an entry of another site or of the system is reported as a
    break, without its place or detail (the platform operator's auditor sees those)."""
    from dataclasses import replace

    own_bad = []
    if report.bad_signatures:
        visible = {str(pk) for pk in visible_signatures(actor, Signature.objects.all())
                   .values_list("pk", flat=True)}
        own_bad = [line for line in report.bad_signatures
                   if line.split(" ", 2)[1] in visible]
    broken_seq, problem = report.broken_seq, report.problem
    if broken_seq is not None:
        entry = AuditEntry.objects.filter(seq=broken_seq).first()
        if entry is None or not entry_visible(actor, entry):
            broken_seq = None
            problem = ("the chain is broken at an entry outside your site; the platform "
                       "operator's auditor sees where")
    elif report.bad_signatures and problem.startswith("chain intact"):
        problem = (f"chain intact ({report.count} entries), but "
                   + (f"{len(own_bad)} signatures of your site do not verify; the first: "
                      f"{own_bad[0]}" if own_bad else
                      "signatures outside your site do not verify (the platform operator's "
                      "auditor sees which)"))
    return replace(report, broken_seq=broken_seq, problem=problem, bad_signatures=own_bad)
