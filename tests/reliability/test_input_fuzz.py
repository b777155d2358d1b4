"""Mutated inputs: prompt geometry, prompt-library bundles, NIfTI, NRRD and zip uploads. Each is
either accepted or refused with a reason -- never a server error, never half-written (no rows
or files beyond what was accepted). The DICOM counterpart is
tests/backend/imaging/test_mutated_uploads.py."""
import gzip
import io
import json
import math
import tempfile
import zipfile
from pathlib import Path

import nibabel
import nrrd
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from annotations.geometry import GeometryError, validate_geometry
from imaging.models import Instance, Series
from prompts.bundle import BundleItem, build_bundle, dumps, read_bundle
from prompts.models import PromptVersion
from prompts.source import LibraryError, read_library
from tests.backend.imaging.conftest import series_files

FAST = settings(deadline=None, database=None, suppress_health_check=list(HealthCheck))

# --- geometry ----------------------------------------------------------------------------
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70),
                    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=5))
JSON = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=5), st.dictionaries(
        st.sampled_from(["prompts", "slice", "box", "points", "label", "x"]), inner,
        max_size=4)), max_leaves=20)
PROMPT = st.fixed_dictionaries({"slice": st.one_of(st.integers(-3, 25), SCALARS)}, optional={
    "box": st.lists(st.one_of(st.floats(-1e3, 1e3), SCALARS), max_size=6),
    "points": st.lists(st.lists(st.one_of(st.floats(-1e3, 1e3), st.integers(-1, 3)),
                                max_size=4), max_size=4)})
GEOMETRY = st.one_of(JSON, st.fixed_dictionaries({"prompts": st.lists(PROMPT, max_size=4)}))
TEMPLATES = [
    {"tool": "box", "count": 1, "placement": "x" * 10, "tolerance": {"value": 5, "unit": "mm"}},
    {"tool": "click", "count": 2, "placement": "x" * 10,
     "tolerance": {"value": 5, "unit": "mm"}},
]


@settings(FAST, max_examples=400)
@given(raw=GEOMETRY, template=st.sampled_from(TEMPLATES))
def test_any_geometry_is_accepted_or_refused_with_a_reason(raw, template):
    try:
        prompts = validate_geometry(raw, template, (20, 256, 200))
    except GeometryError as refused:
        assert refused.message
        return
    for prompt in prompts:
        assert 0 <= prompt.slice < 20
        for value in (prompt.box or ()):
            assert math.isfinite(value)


# --- prompt-library bundles --------------------------------------------------------------
def real_bundle() -> bytes:
    entries, _ = read_library()
    items = [BundleItem(doc["key"], doc["modality"], 1, doc,
                        {"state": "approved", "author": "a", "approved_by": "b"})
             for key, doc in entries.items() if key.startswith("liver")]
    return dumps(build_bundle(items, created_at="2025-01-15T00:00:00Z", created_by="admin",
                              site={"code": "other"})).encode()


BUNDLE = real_bundle()
BYTE_EDITS = st.tuples(
    st.lists(st.tuples(st.integers(0, len(BUNDLE) - 1), st.integers(0, 255)), max_size=6),
    st.one_of(st.none(), st.integers(0, len(BUNDLE))))


def mutate(data: bytes, edits, cut) -> bytes:
    mutated = bytearray(data)
    for position, byte in edits:
        if position < len(mutated):
            mutated[position] = byte
    return bytes(mutated if cut is None else mutated[:cut])


def json_mutation(path: list[int], value) -> bytes:
    """The bundle with one value, found by walking ``path`` through its JSON, replaced."""
    document = json.loads(BUNDLE)
    node = document
    for step in path:
        keys = sorted(node) if isinstance(node, dict) else range(len(node))
        if not keys:
            break
        key = list(keys)[step % len(keys)]
        if not isinstance(node[key], (dict, list)) or step == path[-1]:
            node[key] = value
            break
        node = node[key]
    return json.dumps(document).encode()


@settings(FAST, max_examples=150)
@given(mutation=st.one_of(
    BYTE_EDITS.map(lambda m: mutate(BUNDLE, *m)),
    st.tuples(st.lists(st.integers(0, 50), min_size=1, max_size=6), JSON).map(
        lambda m: json_mutation(*m))))
def test_a_mutated_bundle_is_read_whole_or_refused_with_every_problem(mutation):
    try:
        read_bundle(mutation)
    except LibraryError as refused:
        assert str(refused)


@pytest.mark.django_db
@settings(FAST, max_examples=25)
@given(edits=BYTE_EDITS)
def test_importing_a_mutated_bundle_creates_all_drafts_or_none(users, edits):
    client = APIClient()
    client.force_login(users["prompt_admin"])
    before = PromptVersion.objects.count()
    bundle = io.BytesIO(mutate(BUNDLE, *edits))
    bundle.name = "library.json"
    response = client.post("/api/v1/prompts/import/", {"bundle": bundle}, format="multipart")
    assert response.status_code in (201, 400), response.content[:300]
    created = PromptVersion.objects.count() - before
    if response.status_code == 400:
        assert created == 0 and response.content
    else:
        assert created == len(response.json())


# --- NIfTI, NRRD and zip uploads -----------------------------------------------------------
def nifti_bytes() -> bytes:
    volume = (np.arange(6 * 16 * 16, dtype=np.int16).reshape(16, 16, 6) % 200) - 100
    image = nibabel.Nifti1Image(volume, np.diag([0.8, 0.8, 2.5, 1]))
    return gzip.compress(image.to_bytes(), mtime=0)


def nrrd_bytes() -> bytes:
    volume = (np.arange(6 * 16 * 16, dtype=np.int16).reshape(16, 16, 6) % 200) - 100
    header = {"space": "left-posterior-superior",
              "space directions": np.diag([0.8, 0.8, 2.5]), "space origin": np.zeros(3)}
    with tempfile.NamedTemporaryFile(suffix=".nrrd") as file:
        nrrd.write(file.name, volume, header)
        return Path(file.name).read_bytes()


def zip_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in series_files(3).items():
            archive.writestr(name, data)
    return buffer.getvalue()


ORIGINALS = {"volume.nii.gz": nifti_bytes(), "volume.nrrd": nrrd_bytes(),
             "series.zip": zip_bytes()}


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def snapshot(media_root) -> tuple[int, int, int]:
    files = sum(1 for p in media_root.rglob("*") if p.is_file()) if media_root.exists() else 0
    return files, Instance.objects.count(), Series.objects.count()


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(ORIGINALS))
def test_mutated_volume_and_archive_uploads_never_fail_the_server(users, media_root, name):
    client = APIClient()
    client.force_login(users["annotator"])
    original = ORIGINALS[name]

    @settings(FAST, max_examples=20)
    @given(edits=st.lists(st.tuples(st.integers(0, len(original) - 1), st.integers(0, 255)),
                          min_size=1, max_size=8),
           cut=st.one_of(st.none(), st.integers(0, len(original))))
    def upload(edits, cut):
        files, instances, series = snapshot(media_root)
        stream = io.BytesIO(mutate(original, edits, cut))
        stream.name = name
        response = client.post("/api/v1/imaging/uploads/", {"files": [stream]},
                               format="multipart")
        assert response.status_code in (201, 400), response.content[:300]
        after = snapshot(media_root)
        imported = sum(1 for f in response.json()["files"] if f["status"] == "imported")
        refused = [f for f in response.json()["files"]
                   if f["status"] not in ("imported", "duplicate")]
        assert all(f.get("reason") for f in refused), refused
        assert after[1] - instances == after[0] - files
        if not imported:
            assert after[:2] == (files, instances)

    upload()
