"""The exchange file: hashes verified on read, every alteration refused."""
import copy
import json

import pytest

from prompts.bundle import BundleItem, build_bundle, content_hash, dumps, read_bundle
from prompts.source import LibraryError, read_library


@pytest.fixture(scope="module")
def library():
    entries, _ = read_library()
    return entries


@pytest.fixture
def bundle(library):
    items = [
        BundleItem(doc["key"], doc["modality"], 1, doc,
                   {"state": "approved", "author": "a", "approved_by": "b"})
        for name, doc in library.items() if name.startswith(("liver", "kidney-left"))
    ]
    return json.loads(dumps(build_bundle(
        items, created_at="2025-01-15T00:00:00Z", created_by="admin", site={"code": "home"}
    )))


def test_it_reads_back_what_it_wrote(bundle, library):
    _header, items = read_bundle(json.dumps(bundle))
    assert {i.key for i in items} == {"liver-ct", "liver-lesion-ct", "kidney-left-ct"}
    for item in items:
        assert item.content == library[f"{item.key}.yaml"]


def test_the_content_hash_ignores_formatting_but_not_content(library):
    doc = library["liver-ct.yaml"]
    reordered = dict(reversed(list(doc.items())))
    assert content_hash(reordered) == content_hash(doc)
    changed = copy.deepcopy(doc)
    changed["image"]["window"]["width"] = 401
    assert content_hash(changed) != content_hash(doc)


def refused(bundle) -> list[str]:
    with pytest.raises(LibraryError) as caught:
        read_bundle(json.dumps(bundle), "site-b.json")
    return [str(p) for p in caught.value.problems]


def test_it_refuses_altered_content(bundle):
    bundle["items"][0]["content"]["image"]["window"]["width"] = 4000
    problems = refused(bundle)
    assert any("content_sha256" in p and "altered" in p for p in problems)
    assert any("items_sha256" in p for p in problems)


def test_it_refuses_an_altered_approval_record(bundle):
    bundle["items"][1]["approval"]["approved_by"] = "a"
    assert any("item_sha256" in p for p in refused(bundle))


def test_it_refuses_an_item_removed_from_the_bundle(bundle):
    del bundle["items"][0]
    assert refused(bundle) == [
        "site-b.json: items_sha256: does not match the items: the bundle was altered after "
        "export; ask the sending site for a fresh export"
    ]


def test_recomputed_hashes_do_not_let_an_invalid_entry_in(bundle, library):
    doc = copy.deepcopy(library["liver-ct.yaml"])
    doc["structure"]["type"]["code"] = "10200005"
    forged = build_bundle([BundleItem("liver-ct", "CT", 1, doc, {})], created_at="x",
                          created_by="x", site={})
    problems = refused(json.loads(dumps(forged)))
    assert problems == [p for p in problems if "structure.type" in p and "check digit" in p]
    assert problems


def test_it_refuses_what_is_not_a_bundle():
    with pytest.raises(LibraryError, match="not valid JSON"):
        read_bundle(b"\x89PNG")
    with pytest.raises(LibraryError, match="not a prompt-library bundle"):
        read_bundle('{"items": []}')


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_a_bundle_with_a_non_json_number_is_refused_as_invalid(constant):
    """Found by tests/reliability/test_input_fuzz.py: Python's JSON reader accepts NaN, and
    the bundle then failed with a ValueError when its hash was computed."""
    from prompts.bundle import read_bundle
    from prompts.source import LibraryError

    with pytest.raises(LibraryError, match="not valid JSON"):
        read_bundle(f'{{"format": {constant}}}'.encode())
