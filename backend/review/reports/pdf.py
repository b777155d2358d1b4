"""The report as PDF (reportlab): what was checked and how to check it again, the metrics with
plots, and every listed result with its signatures and QA outcome."""
import io
from pathlib import Path
from xml.sax.saxutils import escape

import matplotlib
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import (
    Image,
    KeepTogether,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from .. import plots
from .content import ReportContent, when
from .tables import DIMENSION_TITLES, METRIC_COLUMNS, metric_row

FONT, BOLD = "DejaVuSans", "DejaVuSans-Bold"
PAGE = landscape(A4)
WIDTH = PAGE[0] - 30 * mm


def _register_fonts() -> None:
    """DejaVu (shipped with matplotlib) covers the accents and scripts of printed names."""
    if FONT in pdfmetrics.getRegisteredFontNames():
        return
    folder = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    pdfmetrics.registerFont(TTFont(FONT, str(folder / "DejaVuSans.ttf")))
    pdfmetrics.registerFont(TTFont(BOLD, str(folder / "DejaVuSans-Bold.ttf")))
    pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=BOLD, italic=FONT, boldItalic=BOLD)


def _styles() -> dict:
    base = getSampleStyleSheet()
    body = ParagraphStyle("body", parent=base["BodyText"], fontName=FONT, fontSize=9,
                          leading=12)
    return {
        "title": ParagraphStyle("title", parent=base["Title"], fontName=BOLD, fontSize=18),
        "h2": ParagraphStyle("h2", parent=base["Heading2"], fontName=BOLD, fontSize=13),
        "h3": ParagraphStyle("h3", parent=base["Heading3"], fontName=BOLD, fontSize=10.5),
        "body": body,
        "cell": ParagraphStyle("cell", parent=body, fontSize=6.8, leading=8.4),
        "head": ParagraphStyle("head", parent=body, fontName=BOLD, fontSize=6.8, leading=8.4),
        "mono": ParagraphStyle("mono", parent=body, fontName="Courier", fontSize=8.5),
    }


def _p(text, style) -> Paragraph:
    return Paragraph(escape(str(text)), style)


def _table(header: list[str], rows: list[list], widths: list[float], styles) -> Table:
    data = [[_p(h, styles["head"]) for h in header]]
    data += [[_p(c, styles["cell"]) for c in row] for row in rows]
    table = Table(data, colWidths=widths, repeatRows=1)
    table.setStyle(TableStyle([
        ("GRID", (0, 0), (-1, -1), 0.25, colors.HexColor("#9e9e9e")),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e3eaf2")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, colors.HexColor("#f6f6f6")]),
        ("TOPPADDING", (0, 0), (-1, -1), 1.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
    ]))
    return table


def _image(png: bytes, width: float) -> Image:
    image = Image(io.BytesIO(png))
    scale = width / image.imageWidth
    image.drawWidth, image.drawHeight = width, image.imageHeight * scale
    return image


def _chain_section(content: ReportContent, styles) -> list:
    chain = content.chain
    return [
        Paragraph("Audit chain verification", styles["h2"]),
        _p(f"Verified when this report was generated ({when(content.generated_at)}): "
           f"{chain.message}.", styles["body"]),
        _p("Chain head hash (sha256 of the last entry checked):", styles["body"]),
        _p(chain.head_hash, styles["mono"]),
        Spacer(1, 2 * mm),
        Paragraph("How to verify this report", styles["h3"]),
        _p(f"1. Run \"python manage.py audit_verify\" on the server (or open Audit trail > "
           f"Verify as an auditor): the chain must be intact, and audit entry #{chain.count} "
           f"must carry the entry hash {chain.head_hash}. If it does not, entries were altered, "
           "removed or reordered after this report was made.", styles["body"]),
        _p(f"2. Compute the sha256 of this PDF file and compare it with the \"report.generate\" "
           f"audit entry of report {content.report.public_id}: it records the hashes of the PDF "
           "and the CSV as delivered.", styles["body"]),
        _p("3. Each signature below shows the printed name, date and time (UTC) and meaning "
           "as signed; \"valid\" means it still matches its record, the exact mask content and "
           "the audit trail.", styles["body"]),
    ]


def _metrics_section(content: ReportContent, styles) -> list:
    header = ["Group", *(label for _, label in METRIC_COLUMNS)]
    first = 40 * mm
    widths = [first] + [(WIDTH - first) / len(METRIC_COLUMNS)] * len(METRIC_COLUMNS)
    flow = [Paragraph("Human-AI performance", styles["h2"]),
            _p("Accept: confirmed unchanged; Edit: confirmed after edits; Reject: rejected "
               "(shares of decided results). Dice and |dV|: AI original against the confirmed "
               "mask. Agree: share of QA second readings that agreed; Reader Dice: "
               "independent second reading against the confirmed mask.", styles["body"]),
            Spacer(1, 2 * mm),
            _table(header, [metric_row(content.overall)], widths, styles)]
    by_version = content.breakdowns["prompt_version"]
    charts = [
        plots.rates_chart(by_version, "Decisions by prompt version"),
        plots.dice_chart(by_version, "How much clinicians changed the AI mask"),
        plots.trend_chart(content.breakdowns["period"], "Rates by month"),
    ]
    flow.append(Spacer(1, 3 * mm))
    flow.append(Table([[_image(c, WIDTH / 3 - 4 * mm) for c in charts]],
                      colWidths=[WIDTH / 3] * 3))
    for dimension, groups in content.breakdowns.items():
        flow.append(KeepTogether([
            Paragraph(DIMENSION_TITLES[dimension], styles["h3"]),
            _table(header, [metric_row(g) for g in groups] or [["none"] + [""] * 13], widths,
                   styles),
        ]))
    return flow


RESULT_HEADER = ["Result", "Created", "Prompt version", "Engine / weights", "State",
                 "Decision signature", "Valid", "Dice / volume AI -> final", "QA"]
RESULT_WIDTHS = [14, 22, 28, 32, 18, 64, 12, 28, 49]


def _qa_text(line: dict) -> str:
    parts = [line["qa_state"] or "-"]
    if line["qa_verdict"]:
        parts.append(f"{line['qa_verdict']}: {line['qa_review_signature']}")
        if line["qa_verdict_reason"]:
            parts.append(f"reason: {line['qa_verdict_reason']}")
    if line["qa_adjudication"]:
        parts.append(f"{line['qa_adjudication']}: {line['qa_adjudication_signature']}")
    return "; ".join(parts)


def _decision_text(line: dict) -> str:
    if not line["decision_signature"]:
        return "-"
    reason = line["decision_reason"]
    return f"{line['decision_signature']}" + (f"; reason: {reason}" if reason else "")


def _result_rows(content: ReportContent) -> list[list]:
    rows = []
    for line in content.results:
        change = (f"{line['dice_ai_vs_final']} / {line['ai_volume_ml']} -> "
                  f"{line['final_volume_ml']} mL" if line["dice_ai_vs_final"] != "" else "-")
        rows.append([
            line["result"], line["created_at"], line["prompt_version"],
            f"{line['engine']} {line['engine_version']} / {str(line['weights_sha256'])[:12]}",
            line["state"], _decision_text(line), line["signature_valid"] or "-",
            change, _qa_text(line),
        ])
    return rows


def render_pdf(content: ReportContent) -> bytes:
    _register_fonts()
    styles = _styles()
    report = content.report
    stream = io.BytesIO()

    def footer(canvas, doc) -> None:
        canvas.saveState()
        canvas.setFont(FONT, 7)
        canvas.drawString(15 * mm, 8 * mm, f"Audit report {report.public_id} - {report.scope}")
        canvas.drawRightString(PAGE[0] - 15 * mm, 8 * mm,
                               f"chain head {content.chain.head_hash[:16]}... - page {doc.page}")
        canvas.restoreState()

    document = SimpleDocTemplate(
        stream, pagesize=PAGE, leftMargin=15 * mm, rightMargin=15 * mm, topMargin=14 * mm,
        bottomMargin=14 * mm, title=f"Audit report {report.scope}",
        author=report.requested_by.get_printed_name(), subject="MedSAM-2 annotation audit",
    )
    flow = [
        Paragraph(f"Audit report - {escape(report.site.name)}", styles["title"]),
        _p(f"Scope: {report.scope}. Results created in the period (UTC).", styles["body"]),
        _p(f"Requested by {report.requested_by.get_printed_name()} on "
           f"{when(report.requested_at)}; generated {when(content.generated_at)}. "
           f"Report {report.public_id}.", styles["body"]),
        _p(f"{len(content.results)} results listed; {content.overall.decided} decided.",
           styles["body"]),
        Spacer(1, 3 * mm),
        *_chain_section(content, styles),
        *_metrics_section(content, styles),
        PageBreak(),
        Paragraph("Results, signatures and QA outcomes", styles["h2"]),
        _table(RESULT_HEADER, _result_rows(content) or [["none"] + [""] * 8],
               [w * mm for w in RESULT_WIDTHS], styles),
    ]
    document.build(flow, onFirstPage=footer, onLaterPages=footer)
    return stream.getvalue()
