"""Patient data kept out of log lines: the safety net behind the rule that the code never logs
any. Formatters redact a copy of each record, so other handlers (and tests) see it unchanged.

What goes: the request object Django attaches to error records; query strings (searches by
patient ID travel there); DICOM UIDs, DICOM person names and values of patient attributes,
wherever they appear in the message, an extra field or a traceback.
"""
import logging
import re

PATIENT_KEYS = (
    "PatientName|PatientID|PatientBirthDate|PatientSex|PatientAddress|OtherPatientIDs|"
    "AccessionNumber|patient_name|patient_id|patient_birth_date|birth_date|accession_number"
)
_RULES = [
    # ?PatientID=123&... -> ?<redacted>
    (re.compile(r"\?[^\s\"'<>]*"), "?<redacted>"),
    # PatientID=123, "PatientName": "Doe^Jane", patient_id: 'x'
    (re.compile(rf"([\"']?)\b({PATIENT_KEYS})\b\1(\s*[:=]\s*)(\"[^\"]*\"|'[^']*'|[^\s,;&)}}\]]+)"),
     r"\1\2\1\3<redacted>"),
    # DICOM UIDs have five or more numeric components (IP addresses have four).
    (re.compile(r"(?<![\w.])[0-2](?:\.(?:0|[1-9]\d*)){4,}(?![\w.])"), "<uid>"),
    # DICOM person names: Family^Given^Middle
    (re.compile(r"\b[\w'-]+(?:\^[\w'-]*)+"), "<name>"),
]
DROPPED_ATTRIBUTES = ("request", "scope")
STANDARD_ATTRIBUTES = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


def redact(text: str) -> str:
    for pattern, replacement in _RULES:
        text = pattern.sub(replacement, text)
    return text


def redacted_copy(record: logging.LogRecord) -> logging.LogRecord:
    fields = {k: v for k, v in vars(record).items() if k not in DROPPED_ATTRIBUTES}
    copy = logging.makeLogRecord(fields)
    copy.msg, copy.args = redact(record.getMessage()), None
    for name, value in fields.items():
        if name not in STANDARD_ATTRIBUTES and isinstance(value, str):
            setattr(copy, name, redact(value))
    if record.exc_info:
        copy.exc_text = redact(logging.Formatter().formatException(record.exc_info))
    elif record.exc_text:
        copy.exc_text = redact(record.exc_text)
    copy.exc_info = None
    if record.stack_info:
        copy.stack_info = redact(record.stack_info)
    return copy


class RedactingFormatter(logging.Formatter):
    """The plain text format, with patient data masked."""

    def format(self, record: logging.LogRecord) -> str:
        return super().format(redacted_copy(record))
