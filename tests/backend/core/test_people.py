"""Patient names shown without DICOM's carets."""
import pytest

from core.people import printed_person_name


@pytest.mark.parametrize("dicom, shown", [
    ("Demo^HeadCT", "Demo, HeadCT"),
    ("Doe^Jane^Q^Dr^Jr", "Doe, Dr Jane Q, Jr"),
    ("Doe^Jane^^^", "Doe, Jane"),
    ("Doe", "Doe"),
    ("^Jane", "Jane"),
    ("=山田^太郎=やまだ^たろう", "山田, 太郎"),
    ("", ""),
    ("   ", ""),
])
def test_a_dicom_person_name_reads_as_a_name(dicom, shown):
    assert printed_person_name(dicom) == shown
