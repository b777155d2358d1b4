import copy

from prompts.diff import field_changes, side_by_side
from prompts.source import read_library


def test_it_lists_changed_fields_by_path_and_aligns_the_texts():
    entries, _ = read_library()
    old = entries["spleen-ct.yaml"]
    new = copy.deepcopy(old)
    new["image"]["window"]["level"] = 50
    new["synonyms"].append("lien structure")
    del new["postprocessing"]["min_component_mm3"]
    changes = {c.field: c.as_dict() for c in field_changes(old, new)}
    assert changes["image.window.level"] == {
        "field": "image.window.level", "kind": "changed", "old": 40, "new": 50
    }
    assert changes["postprocessing.min_component_mm3"]["kind"] == "removed"
    assert set(changes) == {"image.window.level", "synonyms", "postprocessing.min_component_mm3"}
    rows = side_by_side(old, new)
    changed = [r for r in rows if r.kind != "equal"]
    assert any("level: 40" in r.left and "level: 50" in r.right for r in changed)
    assert any(r.kind == "insert" and "lien structure" in r.right for r in changed)
    assert sum(1 for r in rows if r.left_number) == len(rows) - sum(
        1 for r in rows if r.kind == "insert")
