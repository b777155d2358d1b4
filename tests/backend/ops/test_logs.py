"""JSON log lines without patient data, and the same masking on plain lines."""
import json
import logging

import pytest

from ops.logs import JsonFormatter
from ops.redaction import RedactingFormatter, redact


@pytest.mark.parametrize("text, kept, gone", [
    ("GET /api/v1/imaging/dicom-web/studies?PatientID=HOSP-0042&limit=5 HTTP/1.1",
     "/api/v1/imaging/dicom-web/studies", "HOSP-0042"),
    ("series 1.2.826.0.1.3680043.8.498.1234 from 10.1.2.3, torch 2.13.0",
     "from 10.1.2.3, torch 2.13.0", "1.2.826.0.1.3680043.8.498.1234"),
    ('{"PatientName": "Doe^Jane", "Modality": "CT"}', '"Modality": "CT"', "Doe"),
    ("ingest failed: patient_id='MRN 77' (bad date)", "(bad date)", "MRN 77"),
    ("reader chose DOE^JOHN^Q for the overlay", "for the overlay", "JOHN"),
])
def test_it_masks_patient_data_and_keeps_the_rest(text, kept, gone):
    masked = redact(text)
    assert kept in masked
    assert gone not in masked


def record(message, *args, **extra):
    item = logging.LogRecord("annotations.tasks", logging.ERROR, __file__, 1, message, args, None)
    item.__dict__.update(extra)
    return item


def test_a_json_line_has_the_fields_and_no_patient_data():
    try:
        raise ValueError("cannot read PatientBirthDate=19700101 of 1.2.3.4.5.6.7")
    except ValueError:
        import sys

        failing = record("job %s failed for %s", 12, "Roe^Richard", route="/x?PatientID=9",
                         request=object(), exc_info=sys.exc_info())
        failing.exc_info = sys.exc_info()
    line = JsonFormatter().format(failing)
    body = json.loads(line)
    assert body["level"] == "ERROR"
    assert body["logger"] == "annotations.tasks"
    assert body["message"] == "job 12 failed for <name>"
    assert body["route"] == "/x?<redacted>"
    assert "timestamp" in body and "request" not in body
    assert "ValueError" in body["exc_info"]
    for secret in ("Roe", "Richard", "19700101", "1.2.3.4.5.6.7", "PatientID=9"):
        assert secret not in line
    # The original record is untouched: other handlers still see what was logged.
    assert failing.getMessage() == "job 12 failed for Roe^Richard"


def test_plain_lines_are_masked_too():
    line = RedactingFormatter("%(levelname)s %(message)s").format(
        record("search %s", "/qido?PatientName=Doe^J")
    )
    assert line == "ERROR search /qido?<redacted>"


def test_warnings_go_through_logging_and_are_masked(tmp_path):
    """highdicom and pydicom warn with attribute values (a patient's name) in the text; those
    reach stderr only through the redacting formatter."""
    import os
    import subprocess
    import sys

    from django.conf import settings

    script = (
        "import django, warnings; django.setup(); "
        "warnings.warn('Value of PatientName is Doe^Jane^Q, not a valid person name')"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.local",
           "MEDSAM_VAR_DIR": str(tmp_path), "PYTHONPATH": str(settings.BACKEND_DIR)}
    done = subprocess.run([sys.executable, "-c", script], cwd=settings.REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=120, check=True)
    assert "py.warnings" in done.stderr, done.stderr
    assert "<name>" in done.stderr
    assert "Doe" not in done.stderr and "Jane" not in done.stderr
