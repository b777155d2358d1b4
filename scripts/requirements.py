"""Print the pinned requirements from pyproject.toml (plus the named extras), one a line."""
import sys
import tomllib
from pathlib import Path

project = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text())
lines = list(project["project"]["dependencies"])
for extra in sys.argv[1:]:
    lines += project["project"]["optional-dependencies"][extra]
print("\n".join(lines))
