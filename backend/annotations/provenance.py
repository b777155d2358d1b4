"""What a result depends on, recorded on every result."""
import os
import subprocess
from functools import lru_cache

from django.conf import settings


@lru_cache(maxsize=1)
def code_version() -> str:
    """The git revision of the running code (``MEDSAM_CODE_VERSION`` in images without .git)."""
    if os.environ.get("MEDSAM_CODE_VERSION"):
        return os.environ["MEDSAM_CODE_VERSION"]
    try:
        revision = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=settings.REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=settings.REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=5,
        ).stdout.strip()
        return revision + ("-dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"
