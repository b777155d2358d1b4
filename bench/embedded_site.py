"""A private embedded deployment for the benches: SQLite and media in a folder of their own."""
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def setup_environment(var_dir: Path) -> None:
    """Point Django at `var_dir` (fast worker heartbeats), migrate there and set Django up."""
    os.environ.update({
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "MEDSAM_VAR_DIR": str(var_dir),
        "MEDSAM_WORKER_HEARTBEAT_SECONDS": "1",
    })
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, check=True)
    import django

    django.setup()
