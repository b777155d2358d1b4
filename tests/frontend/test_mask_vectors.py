"""The committed mask-codec vectors the viewer's unit tests use still say what the backend's
codec does (regenerate with ``python -m tests.frontend.mask_vectors`` after a deliberate
format change)."""
import base64
import json
import zlib

import numpy as np

from annotations import masks
from tests.frontend.mask_vectors import FIXTURE, vectors


def committed() -> list[dict]:
    return json.loads(FIXTURE.read_text())


def test_it_holds_the_cases_the_backend_generates():
    fresh, stored = vectors(), committed()
    assert [(v["name"], v["shape"], v["voxels"]) for v in stored] == [
        (v["name"], v["shape"], v["voxels"]) for v in fresh
    ]
    # Same packed payload; the compressed bytes may differ between zlib builds.
    for new, old in zip(fresh, stored, strict=True):
        assert zlib.decompress(base64.b64decode(new["encoded_base64"])) == zlib.decompress(
            base64.b64decode(old["encoded_base64"])
        ), new["name"]


def test_the_backend_decodes_every_committed_vector_to_its_voxels():
    for vector in committed():
        mask = masks.decode(base64.b64decode(vector["encoded_base64"]), tuple(vector["shape"]))
        expected = np.array([int(c) for c in vector["voxels"]], np.uint8).reshape(vector["shape"])
        np.testing.assert_array_equal(mask, expected, err_msg=vector["name"])
