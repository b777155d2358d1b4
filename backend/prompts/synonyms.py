"""Turning what a user types ("L kidney", "kidney left", "liver") into approved library entries.

The text only ever selects an entry; it is never passed to a model. Matching is on word sets, so
word order does not matter, with the abbreviations and spellings clinicians use expanded first.
A side named in the query is never matched to the other side.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from difflib import SequenceMatcher

# Abbreviations expand to words; spellings fold to one form.
_EXPANSIONS: dict[str, tuple[str, ...]] = {
    "l": ("left",),
    "lt": ("left",),
    "r": ("right",),
    "rt": ("right",),
    "ivc": ("inferior", "vena", "cava"),
    "gb": ("gallbladder",),
    "oesophagus": ("esophagus",),
    "oesophageal": ("esophagus",),
    "esophageal": ("esophagus",),
    "tumor": ("tumour",),
    "tumors": ("tumour",),
    "tumours": ("tumour",),
    "kidneys": ("kidney",),
    "veins": ("vein",),
    "nodules": ("nodule",),
    "lesions": ("lesion",),
    "renal": ("kidney",),
    "hepatic": ("liver",),
    "suprarenal": ("adrenal",),
}
_STOPWORDS = frozenset({"the", "of", "a", "an", "structure"})
_SIDES = {"left": "right", "right": "left"}


def tokens(text: str) -> tuple[str, ...]:
    words = re.split(r"[^0-9a-z]+", text.casefold())
    out: list[str] = []
    for word in words:
        if not word or word in _STOPWORDS:
            continue
        out.extend(_EXPANSIONS.get(word, (word,)))
    # "gall bladder" and "gallbladder" are the same organ
    joined = " ".join(out).replace("gall bladder", "gallbladder")
    return tuple(sorted(set(joined.split())))


def normalise(text: str) -> str:
    return " ".join(tokens(text))


@dataclass(frozen=True)
class Candidate:
    """An approved entry as the resolver sees it."""

    key: str
    name: str
    modality: str
    synonyms: tuple[str, ...] = ()


@dataclass(frozen=True)
class Match:
    key: str
    name: str
    score: float
    matched: str


def _score(query: tuple[str, ...], text: tuple[str, ...]) -> float:
    if not text:
        return 0.0
    q, t = set(query), set(text)
    if q == t:
        return 1.0
    coverage = len(q) / len(t)
    if q <= t:
        return 0.5 + 0.4 * coverage
    if all(any(word.startswith(part) for word in t) for part in q if len(part) >= 2) and all(
        len(part) >= 2 or part in t for part in q
    ):
        return 0.4 + 0.3 * min(coverage, 1.0)
    ratio = SequenceMatcher(None, " ".join(query), " ".join(text)).ratio()
    return 0.6 * ratio if ratio >= 0.8 else 0.0


def resolve(
    query: str, candidates: Iterable[Candidate], modality: str | None = None, limit: int = 10
) -> list[Match]:
    """Entries the query may mean, best first; only entries for ``modality`` when given."""
    wanted = tokens(query)
    if not wanted:
        return []
    excluded_sides = {_SIDES[w] for w in wanted if w in _SIDES}
    matches: list[Match] = []
    for candidate in candidates:
        if modality and candidate.modality.upper() != modality.upper():
            continue
        best: Match | None = None
        for text in (candidate.name, candidate.key.replace("-", " "), *candidate.synonyms):
            words = tokens(text)
            if excluded_sides & set(words):
                continue
            score = _score(wanted, words)
            if score and (best is None or score > best.score):
                best = Match(candidate.key, candidate.name, round(score, 3), text)
        if best is not None:
            matches.append(best)
    matches.sort(key=lambda m: (-m.score, m.name))
    return matches[:limit]
