import io
import zipfile

import pytest

from tests.model.imaging.dicom_builders import build_series, real_file, to_bytes


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def upload(api_as):
    """POST files (name -> bytes) to the upload API as the annotator."""

    def send(files: dict[str, bytes], as_user: str = "annotator", **fields):
        client = api_as(as_user)
        payload = [("files", _named(name, data)) for name, data in files.items()]
        return client.post(
            "/api/v1/imaging/uploads/",
            data={"files": [f for _, f in payload], **fields},
            format="multipart",
        )

    return send


def _named(name: str, data: bytes):
    stream = io.BytesIO(data)
    stream.name = name
    return stream


def zip_of(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def series_files(count: int, **options) -> dict[str, bytes]:
    return {f"IM{k:04d}.dcm": to_bytes(d) for k, d in enumerate(build_series(count, **options))}


def real_bytes(name: str) -> bytes:
    with open(real_file(name), "rb") as stream:
        return stream.read()
