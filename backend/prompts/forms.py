"""The administration page's form for a new library entry.

The structure's identity (key, name, modality, codes, synonyms) is asked for field by field;
the protocol is YAML, as in the version edit form. The form only assembles the document:
``actions.do_create_entry`` validates and writes it, exactly as for ``POST /api/v1/prompts/
entries/``, and its refusals come back onto the fields they concern.
"""
from __future__ import annotations

from django import forms
from django.utils import timezone

from .codes import CATEGORY_CODES, LATERALITY_CODES, SCHEME
from .engine_pins import installed_weights
from .source import parse_yaml, schema

NEW_ENTRY_SOURCE = "new entry"
DEFAULT_ENGINE = "litemedsam"
IDENTITY = ("schema_version", "key", "name", "modality", "structure", "synonyms")

# Where a problem reported for a field of the document is shown on the form; the longest
# matching prefix wins, anything else belongs to the protocol.
FORM_FIELD_FOR = {
    "key": "key",
    "name": "name",
    "modality": "modality",
    "synonyms": "synonyms",
    "structure.category": "category",
    "structure.type": "type_code",
    "structure.type.scheme": "type_scheme",
    "structure.type.meaning": "type_meaning",
    "structure.laterality": "laterality",
    "structure.anatomic_region": "region_code",
    "structure.anatomic_region.meaning": "region_meaning",
}
# The code checks report a wrong meaning or scheme on the code as a whole; show it where it
# would be corrected.
CODE_PART_FIELD = {
    ("type_code", "meaning "): "type_meaning",
    ("type_code", "coding scheme "): "type_scheme",
    ("region_code", "meaning "): "region_meaning",
}

PROTOCOL_TEMPLATE = """\
# The protocol of the new entry; the structure's identity comes from the fields above.
# Every value below is a starting point: set it for this structure before submitting.
dimensions: 3
image:
  window: {{level: 40, width: 400}}
display:
  colour: "#1f77b4"
  opacity: 0.5
interaction:
  tool: box
  count: 1
  plane: axial
  slice: largest_cross_section
  slice_tolerance_mm: 10
  placement: "One box tightly around the structure on the axial slice of its largest section"
  tolerance: {{value: 5, unit: mm}}
instructions: |
  Scroll to the axial slice where the structure looks largest. Draw one box that just
  encloses it on that slice, edges touching its outer border; keep neighbouring structures
  out as far as the box allows. The model then follows it through the neighbouring slices.
engine:
  name: {engine}
  weights_sha256: "{weights}"
propagation:
  direction: both
  stop_when_empty: true
  max_extent_mm: 250
postprocessing:
  largest_component: true
  fill_holes: true
  min_component_mm3: 100
plausibility:
  volume_ml: {{min: 1, max: 3000}}
qa:
  sampling_rate: 0.2
  agreement: {{samples: 4, min_dice: 0.8}}
provenance:
  author: "{author}"
  approver: "The second prompt administrator who signs the approval"
  rationale: |
    Why this protocol: the key slice, the tolerance and the plausibility ranges chosen.
  references: []
  changelog:
    - {{date: "{today}", author: "{author}", change: First version}}
"""


def protocol_template(actor) -> str:
    return PROTOCOL_TEMPLATE.format(
        engine=DEFAULT_ENGINE, weights=installed_weights(DEFAULT_ENGINE) or "",
        author=actor.get_printed_name().replace('"', "'"), today=timezone.now().date().isoformat(),
    )


def _choices(codes: dict[str, str]) -> list[tuple[str, str]]:
    return [(code, f"{meaning} ({SCHEME} {code})") for code, meaning in codes.items()]


class NewEntryForm(forms.Form):
    key = forms.CharField(
        max_length=64, help_text="Lower-case words joined by hyphens, ending in the modality: "
        "brain-ct. It names the entry for good.")
    name = forms.CharField(max_length=100, help_text="Shown to users: Brain")
    modality = forms.ChoiceField(choices=())
    category = forms.ChoiceField(choices=_choices(CATEGORY_CODES), label="Category")
    type_code = forms.CharField(label="Structure code", max_length=18,
                                error_messages={"required": "Give the structure's SNOMED CT "
                                                            "code, e.g. 12738006 for Brain."})
    type_scheme = forms.CharField(label="Coding scheme", initial=SCHEME, max_length=16)
    type_meaning = forms.CharField(label="Code meaning", max_length=100,
                                   error_messages={"required": "Give the code's meaning as "
                                                               "DICOM writes it, e.g. Brain."})
    laterality = forms.ChoiceField(choices=[("", "none (not a paired structure)"),
                                            *_choices(LATERALITY_CODES)], required=False)
    region_code = forms.CharField(label="Anatomic region code (lesions)", required=False,
                                  max_length=18)
    region_meaning = forms.CharField(label="Anatomic region meaning", required=False,
                                     max_length=100)
    synonyms = forms.CharField(help_text="What users may type to find it, comma-separated")
    protocol = forms.CharField(widget=forms.Textarea(attrs={"rows": 40, "cols": 100,
                                                            "spellcheck": "false"}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        modalities = schema()["properties"]["modality"]["enum"]
        self.fields["modality"].choices = [(m, m) for m in modalities]

    def clean(self):
        data = super().clean()
        if bool(data.get("region_code")) != bool(data.get("region_meaning")):
            self.add_error("region_code", "Give both the anatomic region's code and meaning, "
                                          "or neither.")
        return data

    def document(self) -> dict | None:
        """The entry document for ``do_create_entry``, or None with the problems on the form."""
        data = self.cleaned_data
        protocol, problems = parse_yaml(data["protocol"], "protocol")
        if problems:
            self.add_error("protocol", [str(p) for p in problems])
            return None
        repeated = [name for name in IDENTITY if name in protocol]
        if repeated:
            self.add_error("protocol", f"Remove {', '.join(repeated)} from the protocol: the "
                                       "fields above set them.")
            return None
        structure = {
            "category": {"code": data["category"], "scheme": SCHEME,
                         "meaning": CATEGORY_CODES[data["category"]]},
            "type": {"code": data["type_code"].strip(), "scheme": data["type_scheme"].strip(),
                     "meaning": data["type_meaning"].strip()},
            "laterality": None,
        }
        if data["laterality"]:
            structure["laterality"] = {"code": data["laterality"], "scheme": SCHEME,
                                       "meaning": LATERALITY_CODES[data["laterality"]]}
        if data["region_code"]:
            structure["anatomic_region"] = {"code": data["region_code"].strip(), "scheme": SCHEME,
                                            "meaning": data["region_meaning"].strip()}
        synonyms = [s.strip() for s in data["synonyms"].split(",") if s.strip()]
        return {"schema_version": 1, "key": data["key"].strip(), "name": data["name"].strip(),
                "structure": structure, "modality": data["modality"], **protocol,
                "synonyms": synonyms}

    def add_refusal(self, messages: list[str]) -> None:
        """Put each of the action's refusal messages on the field it concerns."""
        prefix = f"{NEW_ENTRY_SOURCE}: "
        for message in messages:
            text = message.removeprefix(prefix)
            path, _, problem = text.partition(": ")
            matches = [p for p in FORM_FIELD_FOR if path == p or path.startswith(p + ".")]
            if message.startswith(prefix) and matches:
                field = FORM_FIELD_FOR[max(matches, key=len)]
                for (code_field, start), part_field in CODE_PART_FIELD.items():
                    if field == code_field and problem.startswith(start):
                        field = part_field
                self.add_error(field, problem)
            elif message.startswith(prefix):
                self.add_error("protocol", text)
            else:
                self.add_error(None, message)
