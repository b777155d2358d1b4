"""David Clunie's DICOM validator (Debian ``dicom3tools``). Missing fails the test under CI."""
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

APT_PACKAGE = "dicom3tools"


@dataclass(frozen=True)
class Findings:
    errors: list[str]
    warnings: list[str]
    output: str


def require_dciodvfy() -> str:
    found = shutil.which("dciodvfy")
    if found:
        return found
    message = f"dciodvfy is not installed: apt-get install -y {APT_PACKAGE}"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def dciodvfy(path: Path) -> Findings:
    """Run dciodvfy on one file; it reports on stderr, one finding a line."""
    run = subprocess.run([require_dciodvfy(), str(path)], capture_output=True, text=True,
                         timeout=120)
    output = run.stderr + run.stdout
    lines = output.splitlines()
    return Findings(
        errors=[line for line in lines if line.startswith("Error")],
        warnings=[line for line in lines if line.startswith("Warning")],
        output=output,
    )
