"""What a report says, gathered once and written out as CSV and as PDF."""
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from annotations.models import Result
from audit.signatures import signature_intact, verify_against_record
from audit.verify import ChainReport, verify_chain

from .. import metrics
from ..models import AuditReport

BREAKDOWNS = ("prompt_version", "engine", "structure", "annotator", "period")

RESULT_COLUMNS = (
    "result", "created_at", "state", "structure", "prompt_version", "prompt_sha256", "engine",
    "engine_version", "weights_sha256", "code_version", "series_uid", "mask_version",
    "ai_volume_ml", "final_volume_ml", "dice_ai_vs_final", "decision_signature",
    "decision_reason", "signed_by", "signed_at", "meaning", "signature_valid", "qa_state",
    "qa_reasons", "qa_verdict", "qa_verdict_reason", "qa_review_signature", "qa_adjudication",
    "qa_adjudication_reason", "qa_adjudication_signature",
)


def when(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if moment else ""


@dataclass
class ReportContent:
    report: AuditReport
    generated_at: datetime
    chain: ChainReport
    results: list[dict] = field(default_factory=list)
    overall: metrics.GroupMetrics | None = None
    breakdowns: dict[str, list[metrics.GroupMetrics]] = field(default_factory=dict)


def scope_of(report: AuditReport) -> metrics.Scope:
    return metrics.Scope(
        site_id=report.site_id, start=report.period_start, end=report.period_end,
        structure_key=report.structure_key, prompt_version_id=report.prompt_version_id,
        annotator_id=report.annotator_id,
    )


def _signature_fields(sig, result: Result) -> dict:
    if sig is None:
        return {}
    version = result.final_version
    check = verify_against_record(sig) if version is not None else signature_intact(sig)
    return {
        "decision_signature": sig.manifestation(),
        "decision_reason": sig.reason,
        "signed_by": sig.printed_name,
        "signed_at": when(sig.signed_at),
        "meaning": sig.get_meaning_display(),
        "signature_valid": "yes" if check.valid else f"NO: {check.problem}",
    }


def _qa_fields(result: Result) -> dict:
    item = getattr(result, "qa_item", None)
    if item is None:
        sampling = getattr(result, "qa_sampling", None)
        return {"qa_state": "not sampled" if sampling is not None else ""}
    return {
        "qa_state": item.get_state_display(),
        "qa_reasons": "; ".join(r["detail"] for r in item.reasons),
        "qa_verdict": item.verdict,
        "qa_verdict_reason": item.verdict_reason,
        "qa_review_signature": (item.review_signature.manifestation()
                                if item.review_signature_id else ""),
        "qa_adjudication": item.get_adjudication_display() if item.adjudication else "",
        "qa_adjudication_reason": item.adjudication_reason,
        "qa_adjudication_signature": (item.adjudication_signature.manifestation()
                                      if item.adjudication_signature_id else ""),
    }


def result_line(result: Result) -> dict:
    provenance = result.provenance
    line = dict.fromkeys(RESULT_COLUMNS, "")
    line.update({
        "result": result.pk,
        "created_at": when(result.created_at),
        "state": result.get_state_display(),
        "structure": result.structure_key,
        "prompt_version": result.prompt_version.label,
        "prompt_sha256": result.prompt_version.content_sha256,
        "engine": provenance.get("engine", ""),
        "engine_version": provenance.get("engine_version", ""),
        "weights_sha256": provenance.get("weights_sha256", ""),
        "code_version": provenance.get("code_version", ""),
        "series_uid": result.series.series_instance_uid,
    })
    if result.final_version_id is not None:
        line["mask_version"] = result.final_version.number
    if result.state in metrics.SIGNED_OFF:
        change = metrics.mask_change(result)
        line.update(ai_volume_ml=change.ai_volume_ml, final_volume_ml=change.final_volume_ml,
                    dice_ai_vs_final=round(change.dice, 4))
    line.update(_signature_fields(result.signature, result))
    line.update(_qa_fields(result))
    return line


def gather(report: AuditReport, progress: Callable[[str, int, int], None]) -> ReportContent:
    """Everything the report shows. ``progress(stage, done, total)`` is called as it goes."""
    content = ReportContent(report, datetime.now(UTC), verify_chain())
    scope = scope_of(report)
    results = list(
        metrics.scoped_results(scope, decided_only=False).select_related(
            "series", "signature", "qa_sampling", "qa_item__review_signature",
            "qa_item__adjudication_signature",
        )
    )
    total = len(results) + len(BREAKDOWNS) + 2
    for done, result in enumerate(results, 1):
        content.results.append(result_line(result))
        if done % 25 == 0:
            progress("listing results", done, total)
    progress("computing metrics", len(results), total)
    content.overall = metrics.overall(scope)
    for step, dimension in enumerate(BREAKDOWNS, len(results) + 1):
        content.breakdowns[dimension] = metrics.compute(scope, dimension, "month")
        progress("computing metrics", step, total)
    progress("writing CSV and PDF", total - 1, total)
    return content
