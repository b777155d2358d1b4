"""How clinicians and the AI perform, grouped by prompt version, engine, structure, annotator
or period: accept / edit / reject rates, Dice and volume difference between the AI original
and the confirmed mask (how much clinicians changed), agreement between readers in QA, and
the time from result to confirmation.

The scope is one site's results created within the period (dates inclusive, UTC). A result is
"accepted" when confirmed unchanged, "edited" when confirmed after edits, "rejected" when
rejected; the three rates add up to 1 over decided results.
"""
import statistics
from collections import defaultdict
from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from annotations import masks
from annotations.models import Result, ResultState

from .models import Adjudication, MaskChange, QAState, Verdict

DIMENSIONS = ("prompt_version", "engine", "structure", "annotator", "period")
PERIODS = ("day", "week", "month")
# Overturned results were confirmed by their annotator and count as such (accepted or edited)
# for the annotator and prompt; QA's ruling on them is the ``overturned`` count.
DECIDED = (ResultState.CONFIRMED, ResultState.REJECTED, ResultState.OVERTURNED)
SIGNED_OFF = (ResultState.CONFIRMED, ResultState.OVERTURNED)


@dataclass(frozen=True)
class Scope:
    site_id: int
    start: date | None = None
    end: date | None = None
    structure_key: str = ""
    prompt_version_id: int | None = None
    annotator_id: int | None = None
    engine: str = ""
    # Who looks: a reviewer's figures leave out the results blinded to them (an open QA
    # reading), which the counts per annotator or period would otherwise give away.
    viewer: object = None


def scoped_results(scope: Scope, decided_only: bool = True):
    results = Result.objects.filter(series__study__patient__site=scope.site_id)
    if scope.viewer is not None:
        from .blinding import hide_blinded

        results = hide_blinded(results, scope.viewer)
    if decided_only:
        results = results.filter(state__in=DECIDED)
    if scope.start:
        results = results.filter(created_at__gte=_midnight(scope.start))
    if scope.end:
        results = results.filter(created_at__lt=_midnight(scope.end + timedelta(days=1)))
    if scope.structure_key:
        results = results.filter(structure_key=scope.structure_key)
    if scope.prompt_version_id:
        results = results.filter(prompt_version=scope.prompt_version_id)
    if scope.annotator_id:
        results = results.filter(decided_by=scope.annotator_id)
    if scope.engine:
        results = results.filter(provenance__engine=scope.engine)
    return results.select_related(
        "prompt_version__entry", "decided_by", "final_version", "qa_item", "qa_mask_change"
    ).order_by("created_at", "id")


def _midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min), timezone.get_fixed_timezone(0))


def mask_change(result: Result) -> MaskChange:
    """The stored comparison of the AI original with the confirmed mask, computed once."""
    try:
        return result.qa_mask_change
    except MaskChange.DoesNotExist:
        pass
    ai = result.mask_versions.get(number=1)
    final = result.final_version
    if final.number == 1:
        dice = 1.0
    else:
        dice = masks.dice(masks.decode(ai.data, tuple(ai.shape)),
                          masks.decode(final.data, tuple(final.shape)))
    change = MaskChange(result=result, final_version=final.number, dice=round(dice, 6),
                        ai_volume_ml=ai.volume_ml, final_volume_ml=final.volume_ml)
    try:
        with transaction.atomic():
            change.save()
    except IntegrityError:  # computed meanwhile by another process: the same values
        change = MaskChange.objects.get(result=result)
    result.qa_mask_change = change
    return change


def period_key(moment: datetime, period: str) -> str:
    day = moment.astimezone(timezone.get_fixed_timezone(0)).date()
    if period == "day":
        return day.isoformat()
    if period == "week":
        year, week, _ = day.isocalendar()
        return f"{year}-W{week:02d}"
    return f"{day:%Y-%m}"


def group_key(result: Result, dimension: str, period: str = "month") -> tuple[str, str]:
    """(key, label) of the group ``result`` belongs to."""
    if dimension == "prompt_version":
        return str(result.prompt_version_id), result.prompt_version.label
    if dimension == "engine":
        engine = result.provenance.get("engine", "?")
        version = result.provenance.get("engine_version")
        return engine, f"{engine} {version}" if version else engine
    if dimension == "structure":
        return result.structure_key, result.structure_key
    if dimension == "annotator":
        user = result.decided_by
        return str(user.pk), user.get_printed_name()
    if dimension == "period":
        key = period_key(result.created_at, period)
        return key, key
    raise ValueError(f"unknown dimension {dimension!r}; use one of {', '.join(DIMENSIONS)}")


@dataclass(frozen=True)
class GroupMetrics:
    key: str
    label: str
    decided: int
    accepted: int
    edited: int
    rejected: int
    accept_rate: float | None
    edit_rate: float | None
    reject_rate: float | None
    dice_mean: float | None
    dice_median: float | None
    dice_min: float | None
    volume_diff_ml_mean: float | None
    volume_diff_pct_mean: float | None
    reviewed: int
    agreed: int
    disagreed: int
    agreement_rate: float | None
    reader_dice_mean: float | None
    overturned: int
    confirm_seconds_mean: float | None
    confirm_seconds_median: float | None

    def as_dict(self) -> dict:
        return asdict(self)


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _mean(values: list[float], digits: int = 4) -> float | None:
    return round(statistics.fmean(values), digits) if values else None


def summarise(key: str, label: str, results: list[Result]) -> GroupMetrics:
    confirmed = [r for r in results if r.state in SIGNED_OFF]
    rejected = sum(1 for r in results if r.state == ResultState.REJECTED)
    changes = [mask_change(r) for r in confirmed]
    edited = sum(1 for c in changes if c.final_version > 1)
    dice = [c.dice for c in changes]
    volume_diff = [abs(c.final_volume_ml - c.ai_volume_ml) for c in changes]
    volume_pct = [100 * abs(c.final_volume_ml - c.ai_volume_ml) / c.ai_volume_ml
                  for c in changes if c.ai_volume_ml > 0]
    seconds = [(r.decided_at - r.created_at).total_seconds() for r in confirmed]
    items = [getattr(r, "qa_item", None) for r in results]
    verdicts = [i for i in items if i is not None and i.verdict]
    agreed = sum(1 for i in verdicts if i.verdict == Verdict.AGREE)
    reader_dice = [i.reader_dice for i in verdicts if i.reader_dice is not None]
    overturned = sum(1 for i in verdicts if i.state == QAState.ADJUDICATED
                     and i.adjudication == Adjudication.OVERTURNED)
    decided = len(results)
    return GroupMetrics(
        key=key, label=label, decided=decided, accepted=len(confirmed) - edited, edited=edited,
        rejected=rejected, accept_rate=_ratio(len(confirmed) - edited, decided),
        edit_rate=_ratio(edited, decided), reject_rate=_ratio(rejected, decided),
        dice_mean=_mean(dice), dice_median=round(statistics.median(dice), 4) if dice else None,
        dice_min=round(min(dice), 4) if dice else None,
        volume_diff_ml_mean=_mean(volume_diff, 3), volume_diff_pct_mean=_mean(volume_pct, 2),
        reviewed=len(verdicts), agreed=agreed, disagreed=len(verdicts) - agreed,
        agreement_rate=_ratio(agreed, len(verdicts)), reader_dice_mean=_mean(reader_dice),
        overturned=overturned, confirm_seconds_mean=_mean(seconds, 1),
        confirm_seconds_median=round(statistics.median(seconds), 1) if seconds else None,
    )


def compute(scope: Scope, group_by: str = "prompt_version", period: str = "month"
            ) -> list[GroupMetrics]:
    """Metrics per group, ordered by label (periods chronologically)."""
    if group_by not in DIMENSIONS:
        raise ValueError(f"unknown dimension {group_by!r}; use one of {', '.join(DIMENSIONS)}")
    if period not in PERIODS:
        raise ValueError(f"unknown period {period!r}; use one of {', '.join(PERIODS)}")
    groups: dict[tuple[str, str], list[Result]] = defaultdict(list)
    for result in scoped_results(scope):
        groups[group_key(result, group_by, period)].append(result)
    return [summarise(key, label, members)
            for (key, label), members in sorted(groups.items(), key=lambda kv: kv[0][1])]


def overall(scope: Scope) -> GroupMetrics:
    return summarise("all", "All results", list(scoped_results(scope)))
