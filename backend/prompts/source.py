"""Reading and validating prompt-library entries: the YAML source files in ``prompt_library/``,
drafts edited in the browser and entries arriving in a bundle all pass through ``validate_entry``.

Django-free on purpose: ``manage.py prompt_library check``, the tests and the bundle importer
share it, and it runs before anything touches the database.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml
from jsonschema import Draft202012Validator

from model.protocol import MULTI_SLICE_RULES

from .codes import PAIRED_TYPE_CODES, CodeRole, code_problems

LIBRARY_DIR = Path(__file__).resolve().parents[2] / "prompt_library"
STRUCTURES_DIR = LIBRARY_DIR / "structures"
SCHEMA_PATH = LIBRARY_DIR / "schema.json"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an entry: where (file or bundle item), which field, and what."""

    source: str
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.source}: {self.field}: {self.message}"


class LibraryError(Exception):
    """Raised with every problem found, so a user can fix them all in one pass."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class _StringDatesLoader(yaml.SafeLoader):
    """SafeLoader that keeps dates as the strings they were written as (the schema wants text)."""


_StringDatesLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def parse_yaml(text: str, source: str) -> tuple[dict | None, list[Problem]]:
    try:
        document = yaml.load(text, Loader=_StringDatesLoader)  # noqa: S506 - a SafeLoader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "(file)"
        problem = getattr(exc, "problem", None) or str(exc)
        return None, [Problem(source, where, f"not valid YAML: {problem}")]
    if not isinstance(document, dict):
        return None, [Problem(source, "(file)", "must hold one mapping (key: value lines)")]
    return document, []


def dump_yaml(document: dict) -> str:
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=96)


@cache
def schema() -> dict:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


def _field(path) -> str:
    return ".".join(str(part) for part in path) or "(top level)"


def validate_entry(document: dict, source: str) -> list[Problem]:
    """Every problem with one entry: schema first, then the rules a schema cannot express."""
    validator = Draft202012Validator(schema())
    errors = sorted(validator.iter_errors(document), key=lambda e: list(map(str, e.path)))
    problems = [Problem(source, _field(e.path), e.message) for e in errors]
    if problems:
        return problems
    return [Problem(source, field, message) for field, message in _semantic_problems(document)]


def _semantic_problems(doc: dict) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    structure = doc["structure"]
    for role in CodeRole:
        concept = structure.get(role.value)
        if concept is not None:
            found += [(f"structure.{role.value}", m) for m in code_problems(role, concept)]
    if structure["type"]["code"] in PAIRED_TYPE_CODES and structure["laterality"] is None:
        found.append(
            (
                "structure.laterality",
                f"{structure['type']['meaning']} is a paired structure: give the laterality "
                "(7771000 Left or 24028007 Right) or left and right masks cannot be told apart",
            )
        )
    found += _dimension_problems(doc)
    for name, bounds in doc["plausibility"].items():
        if bounds["min"] >= bounds["max"]:
            found.append((f"plausibility.{name}", "min must be less than max"))
    normalisation = doc["image"].get("normalisation")
    if normalisation and normalisation["method"] == "percentile":
        if not normalisation.get("lower", 0) < normalisation.get("upper", 100):
            found.append(("image.normalisation", "percentile lower must be less than upper"))
    interaction = doc["interaction"]
    if interaction["tolerance"]["unit"] == "percent" and interaction["tool"] != "box":
        found.append(("interaction.tolerance.unit", "percent of the box size needs tool: box"))
    found += _count_problems(interaction, doc["dimensions"])
    provenance = doc["provenance"]
    if provenance["author"].strip().casefold() == provenance["approver"].strip().casefold():
        found.append(("provenance.approver", "the approver must be someone other than the author"))
    return found


def _count_problems(interaction: dict, dimensions: int) -> list[tuple[str, str]]:
    """count_min, boxes_per_part, the extent and a rule naming several slices must fit
    together."""
    found = []
    count, fewest = interaction["count"], interaction.get("count_min", interaction["count"])
    slices = named_slices(interaction)
    if fewest > count:
        found.append(("interaction.count_min", "must not exceed count"))
    if interaction.get("boxes_per_part") and interaction["tool"] != "box":
        found.append(("interaction.boxes_per_part", "needs tool: box"))
    if interaction.get("extent") == "required":
        if dimensions != 3:
            found.append(("interaction.extent", "marking the first and last slice needs a volume"))
        if interaction["tool"] != "box":
            found.append(("interaction.extent", "needs tool: box"))
        if "extent_tolerance_mm" not in interaction:
            found.append(("interaction.extent_tolerance_mm",
                          "extent: required needs the end slices' placement tolerance"))
    elif "extent_tolerance_mm" in interaction:
        found.append(("interaction.extent_tolerance_mm", "only with extent: required"))
    if slices > 1:
        if dimensions != 3:
            found.append(("interaction.slice", "a rule naming several slices needs a volume"))
        if fewest < slices or (not interaction.get("boxes_per_part") and count != slices):
            found.append(("interaction.count",
                          f"the slice rule names {slices} slices: one box on each at least"
                          + ("" if interaction.get("boxes_per_part") else ", exactly")))
    return found


def named_slices(interaction: dict) -> int:
    """How many slices the interaction's slice rule names (1 for the one-slice rules)."""
    return MULTI_SLICE_RULES.get(interaction.get("slice", ""), 1)


def _dimension_problems(doc: dict) -> list[tuple[str, str]]:
    found = []
    plausibility = doc["plausibility"]
    if doc["dimensions"] == 3:
        if "propagation" not in doc:
            found.append(("propagation", "a 3-dimensional entry needs propagation settings"))
        for needed in ("plane", "slice"):
            if needed not in doc["interaction"]:
                found.append((f"interaction.{needed}", "a 3-dimensional entry must name it"))
        if "volume_ml" not in plausibility:
            found.append(("plausibility.volume_ml", "a 3-dimensional entry needs a volume range"))
        for name in ("area_mm2", "area_fraction"):
            if name in plausibility:
                found.append((f"plausibility.{name}", "only for 2-dimensional entries"))
    else:
        if "propagation" in doc:
            found.append(("propagation", "a 2-dimensional entry is not propagated; remove it"))
        for name in ("volume_ml", "craniocaudal_extent_mm"):
            if name in plausibility:
                found.append((f"plausibility.{name}", "only for 3-dimensional entries"))
    return found


def structure_identity(doc: dict) -> tuple:
    """What makes two entries the same structure: codes and modality, not the wording."""
    structure = doc["structure"]
    codes = tuple(
        (structure.get(role.value) or {}).get("code") for role in CodeRole
    )
    return (*codes, doc["modality"])


def library_problems(entries: dict[str, dict]) -> list[Problem]:
    """Rules across entries: unique keys, one entry per structure, no shared synonym."""
    from .synonyms import normalise

    found: list[Problem] = []
    by_key: dict[str, str] = {}
    by_identity: dict[tuple, str] = {}
    by_synonym: dict[tuple[str, str], str] = {}
    for source, doc in entries.items():
        key = doc["key"]
        if key in by_key:
            found.append(Problem(source, "key", f"{key!r} is also used by {by_key[key]}"))
        by_key.setdefault(key, source)
        identity = structure_identity(doc)
        if identity in by_identity:
            twin = by_identity[identity]
            found.append(Problem(source, "structure", f"same structure and modality as {twin}"))
        by_identity.setdefault(identity, source)
        for text in [doc["name"], *doc["synonyms"]]:
            slot = (doc["modality"], normalise(text))
            other = by_synonym.setdefault(slot, source)
            if other != source:
                found.append(
                    Problem(source, "synonyms", f"{text!r} also names {other} ({doc['modality']})")
                )
    return found


def read_library(directory: Path = STRUCTURES_DIR) -> tuple[dict[str, dict], list[Problem]]:
    """Parse and validate every ``*.yaml`` file: valid entries by file name, and all problems."""
    entries: dict[str, dict] = {}
    problems: list[Problem] = []
    paths = sorted(directory.glob("*.yaml"))
    if not paths:
        return {}, [Problem(str(directory), "(directory)", "holds no *.yaml entry files")]
    for path in paths:
        source = path.name
        document, found = parse_yaml(path.read_text(encoding="utf-8"), source)
        if document is not None:
            found = validate_entry(document, source)
            if not found and document["key"] != path.stem:
                found = [Problem(source, "key", f"must match the file name: {path.stem!r}")]
        problems += found
        if document is not None and not found:
            entries[source] = document
    problems += library_problems(entries)
    return entries, problems
