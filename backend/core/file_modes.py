"""No file of the installation open to every local user.

New files get 0640 and folders 0750 from the process mask (``FILE_MODE_UMASK`` in the
settings). An installation made before that rule, or a file copied in by hand, may still be
world-readable: :func:`close_to_others` takes the "other" bits off everything under a folder,
and ``serve`` runs it over ``var/`` (database, media, broker messages, keys) at start.
"""
import os
import stat
from pathlib import Path


def close_to_others(root: Path) -> int:
    """Remove read, write and execute for "other" from ``root``: a file, or a folder and all
    below it (symbolic links are not followed). Returns how many modes were changed."""
    changed = 0
    if not root.exists():
        return 0
    walk = os.walk(root) if root.is_dir() else [(str(root), [], [])]
    for folder, _folders, files in walk:
        for name in [folder, *(os.path.join(folder, f) for f in files)]:
            try:
                mode = os.lstat(name).st_mode
            except FileNotFoundError:
                continue  # a broker message consumed meanwhile
            if stat.S_ISLNK(mode) or not mode & 0o007:
                continue
            os.chmod(name, stat.S_IMODE(mode) & ~0o007)
            changed += 1
    return changed
