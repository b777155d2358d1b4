"""Numbers read from a request (query parameters, form fields, ids in a path): a clear 400
naming the parameter, never a 500. Ids are row keys (64-bit signed on PostgreSQL and SQLite),
so a number past 2**63 - 1 is refused here rather than by the database driver.
"""
from rest_framework.exceptions import NotFound, ValidationError

MAX_ID = 2**63 - 1


def parse_id(value) -> int | None:
    """``value`` as a row id (1 .. 2**63 - 1), or None when it is not one."""
    text = str(value).strip() if value is not None else ""
    if not text.isascii() or not text.isdigit() or len(text) > 19:
        return None
    number = int(text)
    return number if 0 < number <= MAX_ID else None


def int_param(params, name: str, *, minimum: int = 0, maximum: int = MAX_ID) -> int | None:
    """The integer query parameter ``name`` of ``params`` (a QueryDict), None when it is
    absent or empty; a DRF ValidationError (400) naming it when it is not a whole number in
    ``minimum`` .. ``maximum``."""
    value = params.get(name)
    if value in (None, ""):
        return None
    text = str(value).strip()
    digits = text[1:] if text[:1] == "-" else text
    if not (digits.isascii() and digits.isdigit()) or len(digits) > 19:
        raise ValidationError({name: f"{name} must be a whole number, not {text[:40]!r}."})
    number = int(text)
    if not minimum <= number <= maximum:
        raise ValidationError({name: f"{name} must be between {minimum} and {maximum}, not "
                                     f"{number}."})
    return number


def id_param(params, name: str) -> int | None:
    """A row id given as the query parameter ``name`` (400 naming it when it is not one)."""
    return int_param(params, name, minimum=1)


def path_id(value, what: str = "object") -> int:
    """An id taken from the path: a 404 when it cannot be a row id (e.g. past 64 bits), as
    any other id that names no row."""
    number = parse_id(value)
    if number is None:
        raise NotFound(f"No {what} {str(value)[:40]}.")
    return number


def id_field(**kwargs):
    """A serializer field for a row id: a whole number 1 .. 2**63 - 1 (400 otherwise)."""
    from rest_framework import serializers

    return serializers.IntegerField(min_value=1, max_value=MAX_ID, **kwargs)
