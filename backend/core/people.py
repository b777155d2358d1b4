"""Person names as people read them, from the DICOM form ``Family^Given^Middle^Prefix^Suffix``
(PS3.5 6.2 "PN"): "Doe^Jane^Q^Dr" reads "Doe, Dr Jane Q". Of the alphabetic, ideographic and
phonetic groups (split by ``=``) the first that is not empty is shown."""


def printed_person_name(value: str) -> str:
    text = str(value or "")
    if "^" not in text and "=" not in text:
        return text.strip()
    group = next((g for g in text.split("=") if g.strip("^ ")), "")
    family, given, middle, prefix, suffix = ([p.strip() for p in group.split("^")] + [""] * 5)[:5]
    first = " ".join(p for p in (prefix, given, middle) if p)
    name = ", ".join(p for p in (family, first) if p)
    return f"{name}, {suffix}" if suffix and name else name or suffix
