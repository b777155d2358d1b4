"""Charts of the metrics as PNG bytes, for the dashboard and the PDF report. Drawn on
matplotlib's Agg canvas through ``Figure`` (no pyplot state), so it is safe in web and worker
processes alike."""
import io

from matplotlib.figure import Figure

from .metrics import GroupMetrics

ACCEPT, EDIT, REJECT = "#2e7d32", "#f9a825", "#c62828"


def _png(figure: Figure) -> bytes:
    stream = io.BytesIO()
    figure.savefig(stream, format="png", dpi=110, bbox_inches="tight")
    return stream.getvalue()


def _empty(figure: Figure, ax, title: str) -> bytes:
    ax.set_title(title)
    ax.text(0.5, 0.5, "no decided results", ha="center", va="center", transform=ax.transAxes)
    ax.set_axis_off()
    return _png(figure)


def rates_chart(groups: list[GroupMetrics], title: str) -> bytes:
    """Stacked horizontal bars: accepted unchanged, edited, rejected, per group."""
    figure = Figure(figsize=(5, 0.4 * max(len(groups), 2) + 1.6))
    ax = figure.subplots()
    groups = [g for g in groups if g.decided]
    if not groups:
        return _empty(figure, ax, title)
    labels = [f"{g.label} (n={g.decided})" for g in groups]
    accept = [g.accept_rate for g in groups]
    edit = [g.edit_rate for g in groups]
    reject = [g.reject_rate for g in groups]
    ax.barh(labels, accept, color=ACCEPT, label="accepted unchanged")
    ax.barh(labels, edit, left=accept, color=EDIT, label="edited")
    ax.barh(labels, reject, left=[a + e for a, e in zip(accept, edit, strict=True)],
            color=REJECT, label="rejected")
    ax.set_xlim(0, 1)
    ax.invert_yaxis()
    ax.set_xlabel("share of decided results")
    ax.set_title(title)
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.08), ncol=3, frameon=False,
              fontsize="small")
    return _png(figure)


def dice_chart(groups: list[GroupMetrics], title: str) -> bytes:
    """Mean Dice (bar) and minimum Dice (marker) between the AI original and the confirmed
    mask, per group: 1.0 means clinicians kept the AI's mask as it was."""
    figure = Figure(figsize=(5, 0.4 * max(len(groups), 2) + 1.6))
    ax = figure.subplots()
    groups = [g for g in groups if g.dice_mean is not None]
    if not groups:
        return _empty(figure, ax, title)
    labels = [g.label for g in groups]
    ax.barh(labels, [g.dice_mean for g in groups], color="#1565c0", label="mean Dice")
    ax.scatter([g.dice_min for g in groups], labels, color="black", marker="|", s=200,
               label="lowest Dice", zorder=3)
    ax.set_xlim(0, 1.02)
    ax.invert_yaxis()
    ax.set_xlabel("Dice, AI original vs confirmed mask")
    ax.set_title(title)
    ax.legend(loc="lower left", fontsize="small")
    return _png(figure)


def trend_chart(periods: list[GroupMetrics], title: str) -> bytes:
    """Edit and reject rates per period, with reader agreement where there is any."""
    figure = Figure(figsize=(5, 2.8))
    ax = figure.subplots()
    periods = [p for p in periods if p.decided]
    if not periods:
        return _empty(figure, ax, title)
    labels = [p.label for p in periods]
    ax.plot(labels, [p.edit_rate for p in periods], marker="o", color=EDIT, label="edit rate")
    ax.plot(labels, [p.reject_rate for p in periods], marker="o", color=REJECT,
            label="reject rate")
    agreement = [p.agreement_rate for p in periods]
    if any(a is not None for a in agreement):
        ax.plot(labels, [a if a is not None else float("nan") for a in agreement], marker="s",
                color="#6a1b9a", label="reader agreement")
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("rate")
    ax.set_title(title)
    ax.legend(fontsize="small")
    return _png(figure)
