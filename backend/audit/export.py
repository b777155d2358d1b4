"""The trail as CSV, streamed row by row so a year's trail does not sit in memory."""
import csv
from collections.abc import Iterable, Iterator

from .chain import canonical_json, timestamp
from .models import AuditEntry

COLUMNS = (
    "seq", "at", "actor_id", "actor_username", "actor_printed_name", "action", "object_type",
    "object_id", "old_values", "new_values", "reason", "client_address", "channel", "versions",
    "prev_hash", "entry_hash", "site_id",
)
JSON_COLUMNS = {"old_values", "new_values", "versions"}
# A spreadsheet runs a cell starting with these as a formula; user-typed text (a reason, a
# printed name) must not become one on the auditor's machine.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class _Echo:
    def write(self, value):
        return value


def _cell(name: str, value) -> str:
    if value is None:
        return ""
    if name == "at":
        return timestamp(value)
    if name in JSON_COLUMNS:
        return canonical_json(value)
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def csv_lines(entries: Iterable[AuditEntry]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(COLUMNS)
    for entry in entries:
        yield writer.writerow([_cell(name, getattr(entry, name)) for name in COLUMNS])


READ_COLUMNS = (
    "id", "at", "actor_id", "actor_username", "object_type", "object_id", "series_id",
    "patient_id", "what", "count", "chained", "window", "opens", "client_address", "channel",
    "site_id",
)


def read_csv_lines(records: Iterable) -> Iterator[str]:
    """The read log's records (``ReadRecord``) as CSV lines, header first."""
    writer = csv.writer(_Echo())
    yield writer.writerow(READ_COLUMNS)
    for record in records:
        yield writer.writerow([_cell(name, getattr(record, name)) for name in READ_COLUMNS])
