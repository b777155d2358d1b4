"""The report as CSV: tables one after another, separated by a blank line, each row starting
with its table's name (report, chain, result, metric) so a reader can filter by it."""
import csv
import io

from .content import RESULT_COLUMNS, ReportContent, when
from .tables import METRIC_COLUMNS

# A spreadsheet runs a cell starting with these as a formula; names and reasons are typed by
# users and must stay text.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _safe(value) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def render_csv(content: ReportContent) -> bytes:
    stream = io.StringIO()
    writer = csv.writer(stream, lineterminator="\r\n")

    def row(*cells):
        writer.writerow([_safe(c) for c in cells])

    report = content.report
    row("section", "field", "value")
    row("report", "report_id", report.public_id)
    row("report", "site", report.site.name)
    row("report", "scope", report.scope)
    row("report", "requested_by", report.requested_by.get_printed_name())
    row("report", "generated_at", when(content.generated_at))
    row("chain", "intact", "yes" if content.chain.intact else "NO")
    row("chain", "entries_checked", content.chain.count)
    row("chain", "head_hash", content.chain.head_hash)
    row("chain", "message", content.chain.message)
    writer.writerow([])
    row("section", *RESULT_COLUMNS)
    for line in content.results:
        row("result", *(line[name] for name in RESULT_COLUMNS))
    writer.writerow([])
    row("section", "dimension", "group", *(name for name, _ in METRIC_COLUMNS))
    groups = [("overall", content.overall)] + [
        (dimension, group) for dimension, groups in content.breakdowns.items() for group in groups
    ]
    for dimension, group in groups:
        row("metric", dimension, group.label, *(getattr(group, name) for name, _ in
                                                  METRIC_COLUMNS))
    return stream.getvalue().encode("utf-8")
