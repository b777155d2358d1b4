"""SNOMED CT codes a library entry may use, and the checks that refuse a bad one.

A code is checked three ways: its form (digits with a valid Verhoeff check digit, which catches
typos such as swapped digits), its role (a laterality code where a laterality belongs), and its
meaning (the meaning written in the file must be one of the code's known meanings, so a file
that says "Kidney" beside the liver's code is refused).

Codes come from DICOM's SNOMED subset as shipped in pydicom (the same table the SEG writer
draws on) plus the meanings DICOM segmentation tools write (DESIGN.md section 8), which differ
from SNOMED's fully specified names for a few concepts.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from functools import cache

SCHEME = "SCT"


class CodeRole(StrEnum):
    CATEGORY = "category"
    TYPE = "type"
    LATERALITY = "laterality"
    ANATOMIC_REGION = "anatomic_region"


# Segmented property categories (CID 7150 as segmentation tools write it). 123037004 is the
# category DESIGN.md section 8 fixes for organs; pydicom's copy of CID 7150 lists 91723000 for
# "Anatomical Structure", which tools rarely write, so it is accepted as well.
CATEGORY_CODES: dict[str, str] = {
    "123037004": "Anatomical Structure",
    "91723000": "Anatomical Structure",
    "49755003": "Morphologically Altered Structure",
    "85756007": "Tissue",
}

LATERALITY_CODES: dict[str, str] = {
    "7771000": "Left",
    "24028007": "Right",
    "51440002": "Right and left",
}

# Types that exist on both sides of the body: an entry for one of them must say which side,
# or left and right masks become indistinguishable in an export.
PAIRED_TYPE_CODES: frozenset[str] = frozenset(
    {
        "64033007",  # kidney
        "23451007",  # adrenal gland
        "39607008",  # lung
        "81745001",  # eye
        "76752008",  # breast
    }
)

# Meanings DICOM segmentation tools write where they differ from SNOMED's own wording.
EXTRA_MEANINGS: dict[str, tuple[str, ...]] = {
    "123037004": ("Anatomical Structure",),
    "49755003": ("Morphologically Altered Structure",),
}

# A private coding scheme (DICOM allows schemes named 99...) for structure types that DICOM's
# SNOMED subset lacks. Each code here waits for a verified SNOMED CT concept to replace it.
PRIVATE_SCHEME = "99MSANN"
PRIVATE_TYPE_CODES: dict[str, str] = {
    "MSA0001": "Optic cup",
}

_VERHOEFF_D = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9),
    (1, 2, 3, 4, 0, 6, 7, 8, 9, 5),
    (2, 3, 4, 0, 1, 7, 8, 9, 5, 6),
    (3, 4, 0, 1, 2, 8, 9, 5, 6, 7),
    (4, 0, 1, 2, 3, 9, 5, 6, 7, 8),
    (5, 9, 8, 7, 6, 0, 4, 3, 2, 1),
    (6, 5, 9, 8, 7, 1, 0, 4, 3, 2),
    (7, 6, 5, 9, 8, 2, 1, 0, 4, 3),
    (8, 7, 6, 5, 9, 3, 2, 1, 0, 4),
    (9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
)
_VERHOEFF_P = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9),
    (1, 5, 7, 6, 2, 8, 3, 0, 9, 4),
    (5, 8, 0, 3, 7, 9, 6, 1, 4, 2),
    (8, 9, 1, 6, 0, 4, 3, 5, 2, 7),
    (9, 4, 5, 3, 1, 2, 6, 8, 7, 0),
    (4, 2, 8, 6, 5, 7, 3, 9, 0, 1),
    (2, 7, 9, 3, 8, 0, 6, 4, 1, 5),
    (7, 0, 4, 6, 9, 1, 3, 2, 5, 8),
)


def verhoeff_valid(digits: str) -> bool:
    check = 0
    for position, char in enumerate(reversed(digits)):
        check = _VERHOEFF_D[check][_VERHOEFF_P[position % 8][int(char)]]
    return check == 0


def sctid_form_problem(code: str) -> str | None:
    """Why ``code`` cannot be a SNOMED CT concept identifier, or None when its form is valid."""
    if not isinstance(code, str) or not code.isascii() or not code.isdigit():
        return f"SNOMED CT code {code!r} must be a string of digits"
    if not 6 <= len(code) <= 18 or code.startswith("0"):
        return f"SNOMED CT code {code!r} must have 6 to 18 digits and no leading zero"
    if code[-3:-1] not in ("00", "10"):
        return f"SNOMED CT code {code!r} is not a concept identifier (partition {code[-3:-1]})"
    if not verhoeff_valid(code):
        return f"SNOMED CT code {code!r} has a wrong check digit (a typo?)"
    return None


@cache
def known_meanings() -> dict[str, frozenset[str]]:
    """Every known SCT code mapped to its accepted meanings, lower-cased."""
    from pydicom.sr._concepts_dict import concepts

    meanings: dict[str, set[str]] = {}
    for by_code in concepts["SCT"].values():
        for code, (meaning, _cids) in by_code.items():
            meanings.setdefault(code, set()).add(_fold(meaning))
    for code, extra in EXTRA_MEANINGS.items():
        meanings.setdefault(code, set()).update(_fold(m) for m in extra)
    for table in (CATEGORY_CODES, LATERALITY_CODES):
        for code, meaning in table.items():
            meanings.setdefault(code, set()).add(_fold(meaning))
    return {code: frozenset(names) for code, names in meanings.items()}


def _fold(meaning: str) -> str:
    text = meaning.strip().lower()
    for suffix in (" (body structure)", " (morphologic abnormality)", " (qualifier value)"):
        text = text.removesuffix(suffix)
    return text


@dataclass(frozen=True)
class CodedConcept:
    code: str
    scheme: str
    meaning: str

    @classmethod
    def from_dict(cls, data: dict) -> CodedConcept:
        return cls(str(data["code"]), str(data["scheme"]), str(data["meaning"]))


def code_problems(role: CodeRole, data: dict) -> list[str]:
    """What is wrong with one coded concept used in ``role``; empty when it is acceptable."""
    concept = CodedConcept.from_dict(data)
    if concept.scheme == PRIVATE_SCHEME and role is CodeRole.TYPE:
        return _private_code_problems(concept)
    if concept.scheme != SCHEME:
        return [f"coding scheme must be {SCHEME!r} (SNOMED CT), not {concept.scheme!r}"]
    form = sctid_form_problem(concept.code)
    if form:
        return [form]
    if role is CodeRole.CATEGORY and concept.code not in CATEGORY_CODES:
        allowed = ", ".join(f"{c} {m}" for c, m in CATEGORY_CODES.items())
        return [f"{concept.code} is not a segmentation category; use one of: {allowed}"]
    if role is CodeRole.LATERALITY and concept.code not in LATERALITY_CODES:
        allowed = ", ".join(f"{c} {m}" for c, m in LATERALITY_CODES.items())
        return [f"{concept.code} is not a laterality modifier; use one of: {allowed}"]
    meanings = known_meanings().get(concept.code)
    if meanings is None:
        return [
            f"SNOMED CT code {concept.code} is not in DICOM's SNOMED subset; check the code "
            "(a structure type without one may use a PRIVATE_TYPE_CODES entry)"
        ]
    if _fold(concept.meaning) not in meanings:
        expected = " or ".join(sorted(repr(m) for m in meanings))
        return [f"meaning {concept.meaning!r} does not match code {concept.code} ({expected})"]
    return []


def _private_code_problems(concept: CodedConcept) -> list[str]:
    meaning = PRIVATE_TYPE_CODES.get(concept.code)
    if meaning is None:
        known = ", ".join(f"{c} {m}" for c, m in PRIVATE_TYPE_CODES.items())
        return [f"{concept.code} is not a {PRIVATE_SCHEME} code (known: {known})"]
    if _fold(concept.meaning) != _fold(meaning):
        return [f"meaning {concept.meaning!r} does not match code {concept.code} ({meaning!r})"]
    return []
