"""Comparing two versions of an entry: which fields changed, and the two texts side by side."""
from __future__ import annotations

from dataclasses import dataclass
from difflib import SequenceMatcher

from .source import dump_yaml

_MISSING = object()


@dataclass(frozen=True)
class FieldChange:
    field: str
    old: object
    new: object

    @property
    def kind(self) -> str:
        if self.old is _MISSING:
            return "added"
        if self.new is _MISSING:
            return "removed"
        return "changed"

    def as_dict(self) -> dict:
        return {
            "field": self.field,
            "kind": self.kind,
            "old": None if self.old is _MISSING else self.old,
            "new": None if self.new is _MISSING else self.new,
        }


def _flatten(value, prefix: str = "") -> dict[str, object]:
    if isinstance(value, dict) and value:
        flat: dict[str, object] = {}
        for key, item in value.items():
            flat.update(_flatten(item, f"{prefix}.{key}" if prefix else str(key)))
        return flat
    return {prefix: value}


def field_changes(old: dict, new: dict) -> list[FieldChange]:
    """Changed leaves by dotted path; lists compare whole (synonyms, changelog)."""
    before, after = _flatten(old), _flatten(new)
    changes = []
    for path in sorted(before.keys() | after.keys()):
        a, b = before.get(path, _MISSING), after.get(path, _MISSING)
        if a != b:
            changes.append(FieldChange(path, a, b))
    return changes


@dataclass(frozen=True)
class SideBySideRow:
    kind: str  # equal, replace, delete, insert
    left_number: int | None
    left: str
    right_number: int | None
    right: str


def side_by_side(old: dict, new: dict) -> list[SideBySideRow]:
    """The two entries as YAML, aligned line by line for a two-column view."""
    left, right = dump_yaml(old).splitlines(), dump_yaml(new).splitlines()
    rows: list[SideBySideRow] = []
    matcher = SequenceMatcher(None, left, right, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        span = max(i2 - i1, j2 - j1)
        for offset in range(span):
            i, j = i1 + offset, j1 + offset
            has_left, has_right = i < i2, j < j2
            rows.append(
                SideBySideRow(
                    tag if has_left and has_right else ("delete" if has_left else "insert"),
                    i + 1 if has_left else None,
                    left[i] if has_left else "",
                    j + 1 if has_right else None,
                    right[j] if has_right else "",
                )
            )
    return rows
