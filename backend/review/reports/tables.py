"""The metric columns both report formats show, with their headings."""
from ..metrics import GroupMetrics

METRIC_COLUMNS = (
    ("decided", "Decided"),
    ("accept_rate", "Accept"),
    ("edit_rate", "Edit"),
    ("reject_rate", "Reject"),
    ("dice_mean", "Dice mean"),
    ("dice_min", "Dice min"),
    ("volume_diff_ml_mean", "|dV| mL"),
    ("volume_diff_pct_mean", "|dV| %"),
    ("reviewed", "QA read"),
    ("agreement_rate", "Agree"),
    ("reader_dice_mean", "Reader Dice"),
    ("overturned", "Overturned"),
    ("confirm_seconds_median", "To confirm (s, median)"),
)

DIMENSION_TITLES = {
    "prompt_version": "By prompt version",
    "engine": "By engine",
    "structure": "By structure",
    "annotator": "By annotator",
    "period": "By month",
}


def cell(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3f}" if abs(value) < 10 else f"{value:.1f}"
    return str(value)


def metric_row(group: GroupMetrics) -> list[str]:
    return [group.label, *(cell(getattr(group, name)) for name, _ in METRIC_COLUMNS)]
