"""Test vectors for the viewer's mask codec (frontend/src/viewer/maskcodec.ts), made by the
backend's own encoder (backend/annotations/masks.py), so the two sides cannot drift apart
silently: frontend/tests/maskcodec.test.ts decodes and re-encodes these, and
tests/frontend/test_mask_vectors.py checks the committed file still matches the backend.

Regenerate after a deliberate format change: ``.venv/bin/python -m tests.frontend.mask_vectors``
(with ``backend`` on the path, as pytest sets it).
"""
import base64
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "backend"))
from annotations import masks  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
FIXTURE = REPO / "frontend" / "tests" / "fixtures" / "mask_vectors.json"


def cases() -> dict[str, np.ndarray]:
    """Tiny masks that exercise the bit order, the C order and the padding of the last byte."""
    rng = np.random.default_rng(21)
    box = np.zeros((3, 16, 16), np.uint8)
    box[1, 4:12, 5:9] = 1
    checker = (np.indices((2, 4, 8)).sum(axis=0) % 2).astype(np.uint8)
    return {
        "one voxel set": np.ones((1, 1, 1), np.uint8),
        "first voxel only (most significant bit first)": np.eye(1, 9, 0, np.uint8).reshape(1, 3, 3),
        "last voxel only (padding in the last byte)": np.eye(1, 9, 8, np.uint8).reshape(1, 3, 3),
        "empty": np.zeros((1, 2, 2), np.uint8),
        "all set, whole bytes": np.ones((2, 4, 8), np.uint8),
        "checkerboard (slices, rows, cols)": checker,
        "random, odd sizes": (rng.random((2, 3, 5)) > 0.5).astype(np.uint8),
        "a box on the middle slice": box,
    }


def vectors() -> list[dict]:
    return [
        {
            "name": name,
            "shape": list(mask.shape),
            "voxels": "".join(str(int(v)) for v in mask.ravel()),
            "encoded_base64": base64.b64encode(masks.encode(mask)).decode("ascii"),
        }
        for name, mask in cases().items()
    ]


def main() -> None:
    lines = ",\n".join(f" {json.dumps(vector)}" for vector in vectors())
    FIXTURE.write_text(f"[\n{lines}\n]\n")
    print(f"wrote {FIXTURE}")


if __name__ == "__main__":
    main()
