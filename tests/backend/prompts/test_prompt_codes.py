"""SNOMED CT codes: form (Verhoeff check digit), role and meaning."""
from prompts.codes import CodeRole, code_problems, known_meanings, sctid_form_problem

DESIGN_CODES = {  # DESIGN.md section 8
    "123037004": "Anatomical Structure", "78961009": "Spleen", "64033007": "Kidney",
    "28231008": "Gallbladder", "32849002": "Esophagus", "10200004": "Liver",
    "69695003": "Stomach", "15825003": "Aorta", "64131007": "Inferior vena cava",
    "32764006": "Portal vein", "35819009": "Splenic vein", "15776009": "Pancreas",
    "23451007": "Adrenal gland", "7771000": "Left", "24028007": "Right",
}


def test_every_code_of_the_design_has_a_valid_check_digit_and_is_known():
    for code in DESIGN_CODES:
        assert sctid_form_problem(code) is None, code
        assert code in known_meanings()


def test_the_check_digit_catches_a_single_wrong_or_swapped_digit():
    assert sctid_form_problem("64033007") is None
    assert "check digit" in sctid_form_problem("64043007")
    assert "check digit" in sctid_form_problem("46033007")


def test_it_accepts_the_meanings_segmentation_tools_write():
    concept = {"code": "123037004", "scheme": "SCT", "meaning": "Anatomical Structure"}
    assert code_problems(CodeRole.CATEGORY, concept) == []
    concept = {"code": "64033007", "scheme": "SCT", "meaning": "kidney structure (body structure)"}
    assert code_problems(CodeRole.TYPE, concept) == []


def test_it_refuses_another_coding_scheme_and_a_type_used_as_category():
    assert "coding scheme" in code_problems(
        CodeRole.TYPE, {"code": "64033007", "scheme": "SRT", "meaning": "Kidney"}
    )[0]
    assert "not a segmentation category" in code_problems(
        CodeRole.CATEGORY, {"code": "64033007", "scheme": "SCT", "meaning": "Kidney"}
    )[0]


def test_a_private_code_is_only_accepted_from_its_table():
    assert code_problems(
        CodeRole.TYPE, {"code": "MSA0001", "scheme": "99MSANN", "meaning": "Optic cup"}
    ) == []
    assert "not a 99MSANN code" in code_problems(
        CodeRole.TYPE, {"code": "MSA0999", "scheme": "99MSANN", "meaning": "Optic cup"}
    )[0]
    assert "coding scheme" in code_problems(
        CodeRole.LATERALITY, {"code": "MSA0001", "scheme": "99MSANN", "meaning": "Optic cup"}
    )[0]
