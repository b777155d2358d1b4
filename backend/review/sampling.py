"""Which confirmed results go to the QA queue, and why.

Always sampled: results carrying a flag (low agreement under prompt perturbation, a volume or
extent outside the plausible range, ...), the first N confirmed results of each prompt
version, and results confirmed by an annotator the site watches. Every other result is
sampled when its draw -- sha256 of the site's seed and the result id, read as a number in
[0, 1) -- is below its prompt entry's ``qa.sampling_rate``. The draw is deterministic: anyone
holding the seed can recompute the decision, which is stored with its inputs.
"""
import hashlib
from dataclasses import dataclass

from annotations.models import Result, ResultState

from .models import SitePolicy, WatchedAnnotator


def draw(seed: str, result_id: int) -> float:
    digest = hashlib.sha256(f"{seed}:{result_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def sampling_rate(result: Result) -> float:
    return float(result.prompt_version.content.get("qa", {}).get("sampling_rate", 0.0))


def position_in_version(result: Result) -> int:
    """1 for the first confirmed result of its prompt version, 2 for the second, ..."""
    earlier = Result.objects.filter(
        prompt_version=result.prompt_version_id, state=ResultState.CONFIRMED,
        decided_at__lte=result.decided_at,
    ).exclude(pk=result.pk).exclude(decided_at=result.decided_at, pk__gt=result.pk)
    return earlier.count() + 1


@dataclass(frozen=True)
class Sampling:
    seed: str
    rate: float
    draw: float
    reasons: list

    @property
    def sampled(self) -> bool:
        return bool(self.reasons)


def decide(result: Result, policy: SitePolicy) -> Sampling:
    """The sampling decision for a confirmed ``result`` under the site's ``policy``."""
    rate = sampling_rate(result)
    value = draw(policy.sampling_seed, result.pk)
    reasons = []
    if result.flags:
        codes = ", ".join(sorted({flag.get("code", "?") for flag in result.flags}))
        reasons.append({"code": "flagged", "detail": f"the result was flagged: {codes}"})
    position = position_in_version(result)
    if position <= policy.first_n_per_version:
        reasons.append({
            "code": "new_version",
            "detail": f"confirmed result {position} of the first {policy.first_n_per_version} "
            f"of {result.prompt_version.label}",
        })
    if WatchedAnnotator.objects.filter(site=policy.site_id,
                                       annotator=result.decided_by_id).exists():
        reasons.append({"code": "watched_annotator",
                        "detail": "the site reviews every result of this annotator"})
    if value < rate:
        reasons.append({"code": "random",
                        "detail": f"draw {value:.6f} below the sampling rate {rate:g}"})
    return Sampling(policy.sampling_seed, rate, value, reasons)
