"""What a user types resolves to approved entries for the series' modality, never to free text."""
import pytest

from prompts.source import read_library
from prompts.synonyms import Candidate, normalise, resolve


@pytest.fixture(scope="module")
def library():
    entries, problems = read_library()
    assert problems == []
    return [
        Candidate(doc["key"], doc["name"], doc["modality"], tuple(doc["synonyms"]))
        for doc in entries.values()
    ]


def best(query, library, modality="CT"):
    matches = resolve(query, library, modality)
    return matches[0].key if matches else None


@pytest.mark.parametrize(
    ("typed", "key"),
    [
        ("L kidney", "kidney-left-ct"),
        ("kidney left", "kidney-left-ct"),
        ("Left Kidney", "kidney-left-ct"),
        ("rt kidney", "kidney-right-ct"),
        ("liver", "liver-ct"),
        ("IVC", "inferior-vena-cava-ct"),
        ("oesophagus", "esophagus-ct"),
        ("gall bladder", "gallbladder-ct"),
        ("renal tumor", "kidney-tumour-ct"),
        ("R adrenal", "adrenal-gland-right-ct"),
        ("splenic vein", "portal-splenic-veins-ct"),
        ("livr", "liver-ct"),
        ("brain", "brain-ct"),
        ("cerebrum", "brain-ct"),
    ],
)
def test_it_resolves_what_clinicians_type(typed, key, library):
    assert best(typed, library) == key


def test_it_never_offers_the_other_side(library):
    keys = [m.key for m in resolve("left kidney", library, "CT")]
    assert "kidney-right-ct" not in keys
    keys = [m.key for m in resolve("L adrenal", library, "CT")]
    assert keys == ["adrenal-gland-left-ct"]


def test_an_ambiguous_word_offers_every_candidate(library):
    keys = {m.key for m in resolve("kidney", library, "CT")}
    assert {"kidney-left-ct", "kidney-right-ct", "kidney-tumour-ct"} <= keys


def test_it_only_offers_entries_for_the_series_modality(library):
    assert resolve("liver", library, "MR") == []
    assert best("brain tumor", library, "MR") == "brain-tumour-mr"
    assert best("brain", library, "CT") == "brain-ct"
    assert "brain-ct" not in {m.key for m in resolve("brain", library, "MR")}
    assert best("optic disc", library, "OP") == "optic-disc-op"
    assert best("optic disc", library, "CT") is None


def test_text_that_names_nothing_resolves_to_nothing(library):
    assert resolve("segment everything bright please", library, "CT") == []
    assert resolve("   ", library, "CT") == []


def test_word_order_case_and_punctuation_do_not_matter():
    assert normalise("Kidney, LEFT") == normalise("left-kidney") == normalise("L kidney")
