"""The exchange format between hospitals: one JSON file holding approved entries, each with a
content hash and its approval record, and a hash over all of it.

The hashes detect a bundle altered in transit or by hand (they are not a signature: whoever
edits a bundle on purpose can recompute them, which is why an import only ever creates drafts
that need local approval). Django-free: the database side lives in ``prompts.exchange``.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

from .source import LibraryError, Problem, validate_entry

FORMAT = "medsam-annotate/prompt-library-bundle"
FORMAT_VERSION = 1


def canonical_json(value) -> bytes:
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def _refuse_constant(name: str):
    """NaN and Infinity are not JSON (Python's reader accepts them): a bundle holding one is
    refused as invalid, instead of failing later when its hash is computed."""
    raise ValueError(f"{name} is not a JSON value")


def content_hash(document: dict) -> str:
    """sha256 of an entry's canonical JSON: equal for equal content, whatever the formatting."""
    return hashlib.sha256(canonical_json(document)).hexdigest()


@dataclass
class BundleItem:
    key: str
    modality: str
    version: int
    content: dict
    approval: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        body = {
            "key": self.key,
            "modality": self.modality,
            "version": self.version,
            "content": self.content,
            "content_sha256": content_hash(self.content),
            "approval": self.approval,
        }
        body["item_sha256"] = hashlib.sha256(canonical_json(body)).hexdigest()
        return body


def build_bundle(items: list[BundleItem], *, created_at: str, created_by: str, site: dict) -> dict:
    rendered = [item.as_dict() for item in items]
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "created_at": created_at,
        "created_by": created_by,
        "source_site": site,
        "items": rendered,
        "items_sha256": hashlib.sha256(canonical_json(rendered)).hexdigest(),
    }


def dumps(bundle: dict) -> str:
    return json.dumps(bundle, indent=2, ensure_ascii=False, sort_keys=False) + "\n"


def read_bundle(raw: bytes | str, name: str = "bundle") -> tuple[dict, list[BundleItem]]:
    """Parse and verify a bundle; raise ``LibraryError`` listing every problem found.

    Checks, in order: JSON, format, each item's content hash and item hash, the hash over all
    items, then each entry against the schema and codes. Nothing is returned unless all pass.
    """
    try:
        bundle = json.loads(raw, parse_constant=_refuse_constant)
    except (UnicodeDecodeError, ValueError) as exc:  # JSONDecodeError, NaN or Infinity
        raise LibraryError([Problem(name, "(file)", f"not valid JSON: {exc}")]) from exc
    if not isinstance(bundle, dict) or bundle.get("format") != FORMAT:
        raise LibraryError([Problem(name, "format", f"not a prompt-library bundle ({FORMAT})")])
    if bundle.get("format_version") != FORMAT_VERSION:
        raise LibraryError(
            [Problem(name, "format_version", f"version {bundle.get('format_version')!r} is "
                     f"not supported; this site reads version {FORMAT_VERSION}")]
        )
    raw_items = bundle.get("items")
    if not isinstance(raw_items, list) or not raw_items:
        raise LibraryError([Problem(name, "items", "the bundle holds no entries")])
    problems: list[Problem] = []
    items: list[BundleItem] = []
    for index, raw_item in enumerate(raw_items):
        item, found = _verify_item(raw_item, f"{name} item {index + 1}")
        problems += found
        if item is not None:
            items.append(item)
    expected = hashlib.sha256(canonical_json(raw_items)).hexdigest()
    if bundle.get("items_sha256") != expected:
        problems.append(
            Problem(name, "items_sha256", "does not match the items: the bundle was altered "
                    "after export; ask the sending site for a fresh export")
        )
    if problems:
        raise LibraryError(problems)
    return bundle, items


def _verify_item(raw: dict, where: str) -> tuple[BundleItem | None, list[Problem]]:
    required = ("key", "modality", "version", "content", "content_sha256", "approval",
                "item_sha256")
    if not isinstance(raw, dict) or any(k not in raw for k in required):
        return None, [Problem(where, "(item)", "must have " + ", ".join(required))]
    where = f"{where} ({raw['key']})"
    if not isinstance(raw["content"], dict):
        return None, [Problem(where, "content", "must be an entry mapping")]
    if content_hash(raw["content"]) != raw["content_sha256"]:
        return None, [Problem(where, "content_sha256", "does not match the content: the entry "
                              "was altered after export")]
    body = {k: v for k, v in raw.items() if k != "item_sha256"}
    if hashlib.sha256(canonical_json(body)).hexdigest() != raw["item_sha256"]:
        return None, [Problem(where, "item_sha256", "does not match the item: its approval "
                              "record or version was altered after export")]
    problems = validate_entry(raw["content"], where)
    content = raw["content"]
    if not problems and (content["key"], content["modality"]) != (raw["key"], raw["modality"]):
        problems = [Problem(where, "key", "the item's key and modality differ from its content")]
    if problems:
        return None, problems
    return BundleItem(raw["key"], raw["modality"], raw["version"], content, raw["approval"]), []
