"""Malformed entries are refused with a message naming the file and the field."""
import copy

import pytest

from prompts.codes import sctid_form_problem, verhoeff_valid
from prompts.source import STRUCTURES_DIR, parse_yaml, read_library, validate_entry

GOOD = (STRUCTURES_DIR / "kidney-left-ct.yaml").read_text(encoding="utf-8")


@pytest.fixture
def entry():
    document, problems = parse_yaml(GOOD, "kidney-left-ct.yaml")
    assert problems == []
    return copy.deepcopy(document)


def fields(problems):
    return {p.field for p in problems}


def test_it_reports_yaml_syntax_errors_with_the_line():
    _doc, problems = parse_yaml("key: kidney-left-ct\nname: [unclosed\n", "broken.yaml")
    assert len(problems) == 1
    assert problems[0].source == "broken.yaml"
    assert problems[0].field.startswith("line 3") or problems[0].field.startswith("line 2")
    assert "not valid YAML" in problems[0].message


def test_it_keeps_changelog_dates_as_text(entry):
    assert entry["provenance"]["changelog"][0]["date"] == "2025-01-15"


def test_it_names_a_missing_field(entry):
    del entry["engine"]
    problems = validate_entry(entry, "x.yaml")
    assert [str(p) for p in problems] == ["x.yaml: (top level): 'engine' is a required property"]


def test_it_names_the_nested_field_of_a_wrong_value(entry):
    entry["display"]["colour"] = "red"
    entry["qa"]["sampling_rate"] = 1.5
    assert fields(validate_entry(entry, "x.yaml")) == {"display.colour", "qa.sampling_rate"}


def test_it_refuses_a_code_with_a_typo(entry):
    entry["structure"]["type"]["code"] = "64033008"
    problems = validate_entry(entry, "x.yaml")
    assert fields(problems) == {"structure.type"}
    assert "check digit" in problems[0].message


def test_it_refuses_a_code_that_is_not_a_concept_identifier(entry):
    entry["structure"]["type"]["code"] = "kidney"
    problems = validate_entry(entry, "x.yaml")
    assert "string of digits" in problems[0].message


def test_it_refuses_a_well_formed_but_unknown_code(entry):
    unknown = next(
        f"99999{n:02d}00{d}" for n in range(100) for d in range(10)
        if verhoeff_valid(f"99999{n:02d}00{d}")
    )
    assert sctid_form_problem(unknown) is None
    entry["structure"]["type"]["code"] = unknown
    problems = validate_entry(entry, "x.yaml")
    assert "not in DICOM's SNOMED subset" in problems[0].message


def test_it_refuses_a_meaning_that_belongs_to_another_code(entry):
    entry["structure"]["type"]["meaning"] = "Liver"
    problems = validate_entry(entry, "x.yaml")
    assert fields(problems) == {"structure.type"}
    assert "'Liver' does not match code 64033007" in problems[0].message


def test_it_refuses_an_organ_code_used_as_laterality(entry):
    entry["structure"]["laterality"] = {"code": "10200004", "scheme": "SCT", "meaning": "Liver"}
    problems = validate_entry(entry, "x.yaml")
    assert fields(problems) == {"structure.laterality"}
    assert "not a laterality modifier" in problems[0].message


def test_it_refuses_a_paired_organ_without_laterality(entry):
    entry["structure"]["laterality"] = None
    problems = validate_entry(entry, "x.yaml")
    assert fields(problems) == {"structure.laterality"}
    assert "paired structure" in problems[0].message


def test_it_refuses_an_entry_approved_by_its_author(entry):
    entry["provenance"]["approver"] = entry["provenance"]["author"].upper()
    assert fields(validate_entry(entry, "x.yaml")) == {"provenance.approver"}


def test_it_refuses_settings_that_do_not_fit_the_dimensions(entry):
    entry["dimensions"] = 2
    problems = validate_entry(entry, "x.yaml")
    assert fields(problems) == {
        "propagation", "plausibility.volume_ml", "plausibility.craniocaudal_extent_mm"
    }


def test_it_refuses_an_empty_plausibility_range(entry):
    entry["plausibility"]["volume_ml"] = {"min": 300, "max": 60}
    assert fields(validate_entry(entry, "x.yaml")) == {"plausibility.volume_ml"}


def test_it_lists_every_bad_file_in_a_directory_and_keeps_the_good_ones(tmp_path):
    (tmp_path / "kidney-left-ct.yaml").write_text(GOOD, encoding="utf-8")
    (tmp_path / "broken.yaml").write_text("key: [\n", encoding="utf-8")
    (tmp_path / "renamed.yaml").write_text(GOOD, encoding="utf-8")
    entries, problems = read_library(tmp_path)
    assert list(entries) == ["kidney-left-ct.yaml"]
    by_source = {p.source: p for p in problems}
    assert set(by_source) == {"broken.yaml", "renamed.yaml"}
    assert by_source["renamed.yaml"].field == "key"


def test_it_refuses_two_entries_for_the_same_structure_or_synonym(tmp_path):
    (tmp_path / "kidney-left-ct.yaml").write_text(GOOD, encoding="utf-8")
    twin = GOOD.replace("key: kidney-left-ct", "key: kidney-left-ct-copy")
    (tmp_path / "kidney-left-ct-copy.yaml").write_text(twin, encoding="utf-8")
    _entries, problems = read_library(tmp_path)
    assert {p.field for p in problems} == {"structure", "synonyms"}
    assert all(p.source == "kidney-left-ct.yaml" or "kidney-left-ct" in p.message
               for p in problems)


def test_it_refuses_counts_that_do_not_fit_the_slice_rule(entry):
    entry["interaction"].update(count=2, count_min=3)
    assert "interaction.count_min" in fields(validate_entry(entry, "x.yaml"))
    entry["interaction"].update(count=9, count_min=2, slice="largest_and_quarters",
                                boxes_per_part=True)
    assert "interaction.count" in fields(validate_entry(entry, "x.yaml"))  # three slices, two boxes
    entry["interaction"].update(count_min=3)
    assert validate_entry(entry, "x.yaml") == []
    entry["interaction"].update(boxes_per_part=False)  # one box on each of three: exactly 3
    assert "interaction.count" in fields(validate_entry(entry, "x.yaml"))


def test_it_takes_a_box_plus_the_first_and_last_slice_with_its_tolerance(entry):
    entry["interaction"].update(extent="required", extent_tolerance_mm=3)
    assert validate_entry(entry, "x.yaml") == []


def test_it_refuses_an_extent_without_its_tolerance_or_a_tolerance_without_it(entry):
    entry["interaction"].update(extent="required")
    problems = validate_entry(entry, "x.yaml")
    assert fields(problems) == {"interaction.extent_tolerance_mm"}
    assert "placement tolerance" in problems[0].message
    del entry["interaction"]["extent"]
    entry["interaction"].update(extent_tolerance_mm=3)
    assert fields(validate_entry(entry, "x.yaml")) == {"interaction.extent_tolerance_mm"}


def test_it_refuses_an_extent_on_a_2d_entry_or_with_clicks_or_an_unknown_value(entry):
    entry["interaction"].update(extent="required", extent_tolerance_mm=3, tool="click")
    assert "interaction.extent" in fields(validate_entry(entry, "x.yaml"))
    entry["interaction"].update(tool="box", extent="optional")
    assert fields(validate_entry(entry, "x.yaml")) == {"interaction.extent"}
