"""Coded values written into exported SEG objects: the structure codes of a prompt entry as
highdicom concepts, the declaration of our private coding scheme, and the algorithm family.

A prompt entry's ``structure`` holds ``category``, ``type`` and ``laterality`` as
``{code, scheme, meaning}`` (checked by ``prompts.codes`` when the entry is loaded). SNOMED CT
is written with the designator ``SCT``, never the deprecated ``SRT``.
"""
from __future__ import annotations

from dataclasses import dataclass

from highdicom.sr import CodedConcept
from pydicom.dataset import Dataset
from pydicom.sr.codedict import codes

from prompts.codes import PRIVATE_SCHEME, SCHEME

ALGORITHM_FAMILY = CodedConcept(*codes.cid7162.ArtificialIntelligence[:3])

PRIVATE_SCHEME_NAME = "MedSAM annotation structures"
PRIVATE_SCHEME_ORGANIZATION = "MedSAM-2 annotation app prompt library maintainers"
"""Declared in the SEG's Coding Scheme Identification Sequence, as DICOM PS3.3 C.12.1.1.2
requires for a private scheme, so a reader learns what ``99MSANN`` codes are."""


class UnexportableCode(ValueError):
    """A prompt entry's structure cannot be written as DICOM codes."""


@dataclass(frozen=True)
class StructureCodes:
    category: CodedConcept
    type: CodedConcept
    laterality: CodedConcept | None

    @property
    def schemes(self) -> set[str]:
        concepts = (self.category, self.type, self.laterality)
        return {c.scheme_designator for c in concepts if c is not None}


def concept(data: dict) -> CodedConcept:
    scheme = str(data["scheme"])
    if scheme not in (SCHEME, PRIVATE_SCHEME):
        raise UnexportableCode(f"coding scheme {scheme!r} is neither SCT nor {PRIVATE_SCHEME}")
    return CodedConcept(str(data["code"]), scheme, str(data["meaning"]))


def structure_codes(content: dict) -> StructureCodes:
    """The codes of a prompt version's ``content``."""
    structure = content.get("structure") or {}
    if not structure.get("category") or not structure.get("type"):
        raise UnexportableCode("the prompt entry names no structure category and type")
    laterality = structure.get("laterality")
    return StructureCodes(
        concept(structure["category"]),
        concept(structure["type"]),
        concept(laterality) if laterality else None,
    )


def private_scheme_declaration() -> Dataset:
    """One item of the Coding Scheme Identification Sequence (0008,0110) for ``99MSANN``."""
    item = Dataset()
    item.CodingSchemeDesignator = PRIVATE_SCHEME
    item.CodingSchemeName = PRIVATE_SCHEME_NAME
    item.CodingSchemeResponsibleOrganization = PRIVATE_SCHEME_ORGANIZATION
    return item


def same_structure(a: StructureCodes, b: StructureCodes) -> bool:
    """Whether two segments describe the same structure (type and side; category aside)."""
    def key(codes_: StructureCodes) -> tuple:
        side = codes_.laterality
        return (codes_.type.value, codes_.type.scheme_designator,
                side.value if side is not None else None)

    return key(a) == key(b)
