"""Script tags for the Vite build: hashed file names come from its manifest."""
import json
from functools import lru_cache

from django import template
from django.conf import settings
from django.templatetags.static import static
from django.utils.html import format_html, format_html_join

register = template.Library()

MANIFEST = settings.REPO_ROOT / "frontend" / "dist" / "manifest.json"


@lru_cache(maxsize=1)
def _manifest(mtime: float) -> dict:
    return json.loads(MANIFEST.read_text())


def manifest() -> dict:
    if not MANIFEST.exists():
        raise FileNotFoundError(
            "The frontend is not built: run the Quick start command (it runs `npm run build`)."
        )
    return _manifest(MANIFEST.stat().st_mtime)


@register.simple_tag
def vite_entry(name: str):
    """<script> and <link> tags for one entry of frontend/vite.config.ts (e.g. "src/main.ts")."""
    chunk = manifest()[name]
    styles = format_html_join(
        "", '<link rel="stylesheet" href="{}">', ((static(css),) for css in chunk.get("css", []))
    )
    script = format_html('<script type="module" src="{}"></script>', static(chunk["file"]))
    return styles + script
