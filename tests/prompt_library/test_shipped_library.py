"""Every file shipped in prompt_library/structures is a valid, complete entry, and together they
cover what the MedSAM-2 paper evaluates."""
from pathlib import Path

import pytest
import yaml
from pydicom.sr.codedict import codes

from prompts.codes import CodeRole, code_problems
from prompts.source import STRUCTURES_DIR, parse_yaml, read_library, validate_entry

LITEMEDSAM_SHA256 = "79d8c9dca6db4d69d3f905579e5250af05e859fff9c1f543e89a513c3028ce76"
SHIPPED = sorted(STRUCTURES_DIR.glob("*.yaml"))

# (type code, laterality code or None, modality) per structure the library must cover.
BTCV_ORGANS = {
    "spleen": ("78961009", None),
    "right kidney": ("64033007", "24028007"),
    "left kidney": ("64033007", "7771000"),
    "gallbladder": ("28231008", None),
    "esophagus": ("32849002", None),
    "liver": ("10200004", None),
    "stomach": ("69695003", None),
    "aorta": ("15825003", None),
    "inferior vena cava": ("64131007", None),
    "portal and splenic veins": ("32764006", None),
    "pancreas": ("15776009", None),
    "right adrenal gland": ("23451007", "24028007"),
    "left adrenal gland": ("23451007", "7771000"),
}


@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_it_validates_every_shipped_file_against_the_schema_and_codes(path: Path):
    document, problems = parse_yaml(path.read_text(encoding="utf-8"), path.name)
    assert problems == []
    assert validate_entry(document, path.name) == []
    assert document["key"] == path.stem


def test_it_reads_the_whole_library_without_problems():
    entries, problems = read_library()
    assert [str(p) for p in problems] == []
    assert len(entries) == len(SHIPPED) >= 22


def _by_codes():
    entries, _ = read_library()
    found = {}
    for doc in entries.values():
        structure = doc["structure"]
        laterality = structure["laterality"]["code"] if structure["laterality"] else None
        region = structure.get("anatomic_region", {}).get("code")
        found[(structure["type"]["code"], laterality, region, doc["modality"])] = doc
    return found


def test_it_covers_the_13_abdominal_ct_organs_of_the_paper():
    found = _by_codes()
    for organ, (type_code, laterality) in BTCV_ORGANS.items():
        doc = found.get((type_code, laterality, None, "CT"))
        assert doc is not None, f"no CT entry for {organ}"
        assert doc["dimensions"] == 3
        assert doc["structure"]["category"]["code"] == "123037004"


def test_it_covers_the_brain_on_head_ct_with_dicoms_codes_and_the_brain_window():
    doc = _by_codes().get((codes.SCT.Brain.value, None, None, "CT"))
    assert doc is not None and doc["key"] == "brain-ct"
    structure = doc["structure"]
    assert (structure["type"]["code"], structure["type"]["meaning"]) == ("12738006", "Brain")
    assert structure["type"]["meaning"] == codes.SCT.Brain.meaning
    # DESIGN.md section 8 fixes 123037004 as the organ category; its meaning is the one
    # pydicom gives the "Anatomical Structure" category.
    assert structure["category"] == {"code": "123037004", "scheme": "SCT",
                                     "meaning": codes.SCT.AnatomicalStructure.meaning}
    assert doc["image"] == {"window": {"level": 40, "width": 80}}
    assert doc["dimensions"] == 3
    assert (doc["interaction"]["tool"], doc["interaction"]["count"]) == ("box", 1)
    assert doc["interaction"]["slice"] == "largest_cross_section"


def test_it_covers_the_lesions_and_the_2d_tasks():
    found = _by_codes()
    lesions = {
        "lung nodule CT": ("27925004", None, "39607008", "CT"),
        "liver lesion CT": ("52988006", None, "10200004", "CT"),
        "kidney tumour CT": ("108369006", None, "64033007", "CT"),
        "brain tumour MR": ("108369006", None, "12738006", "MR"),
    }
    for name, identity in lesions.items():
        assert identity in found, f"no entry for {name}"
        assert found[identity]["structure"]["category"]["code"] == "49755003"
    two_d = [doc for doc in found.values() if doc["dimensions"] == 2]
    keys = {doc["key"] for doc in two_d}
    assert {"optic-disc-op", "optic-cup-op"} <= keys
    assert {doc["modality"] for doc in two_d} >= {"OP", "US", "XC"}


def test_every_entry_defaults_to_the_cpu_engine_with_the_real_weights_pin():
    for doc in _by_codes().values():
        assert doc["engine"] == {"name": "litemedsam", "weights_sha256": LITEMEDSAM_SHA256}


def test_paired_organs_carry_their_laterality_so_exports_can_tell_them_apart():
    for doc in _by_codes().values():
        if doc["structure"]["type"]["code"] in {"64033007", "23451007"} and doc["dimensions"] == 3:
            if doc["structure"]["category"]["code"] == "123037004":
                assert doc["structure"]["laterality"] is not None, doc["key"]
                assert code_problems(CodeRole.LATERALITY, doc["structure"]["laterality"]) == []


def test_files_are_human_readable_yaml_with_instructions_and_provenance():
    for path in SHIPPED:
        text = path.read_text(encoding="utf-8")
        assert not text.lstrip().startswith("{"), f"{path.name} should be block YAML, not JSON"
        doc = yaml.safe_load(text)
        assert len(doc["instructions"].split()) >= 20, path.name
        assert doc["provenance"]["author"] != doc["provenance"]["approver"]
