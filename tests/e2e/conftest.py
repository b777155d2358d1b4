"""A real headless Chromium (Debian's ``chromium``, driven by Playwright through
``executable_path``) against the live test server on 127.0.0.1 and a real worker process.

Without Chromium or Playwright these tests skip, except under CI, where they fail.
"""
import json
import os
from pathlib import Path

import pytest
from django.conf import settings

from tests.backend.annotations.conftest import (  # noqa: F401  (fixtures used here too)
    ai_result,
    head_ct,
    library,
    make_head_series,
)
from tests.conftest import PASSWORD

# The live server listens on the loopback interface only.
os.environ.setdefault("DJANGO_LIVE_TEST_SERVER_ADDRESS", "127.0.0.1")

CHROMIUM = Path(os.environ.get("MEDSAM_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
VIEWPORT = {"width": 1440, "height": 900}


def _missing(message: str):
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="module")
def chromium():
    """A launched headless Chromium (Playwright Browser) for one test module."""
    if not CHROMIUM.is_file():
        _missing(f"{CHROMIUM} is missing: apt-get install -y chromium chromium-driver")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("Playwright for Python is missing: pip install playwright==1.65.2 "
                 "(never `playwright install`; it drives Debian's chromium)")
    manifest = settings.REPO_ROOT / "frontend" / "dist" / "manifest.json"
    if not manifest.is_file() or "src/viewer/viewer.ts" not in json.loads(manifest.read_text()):
        pytest.fail("The frontend is not built with the viewer: run `npm run build`.")
    # Playwright's sync API keeps an event loop in this thread, which Django takes for async
    # code; the tests' ORM calls between browser steps are plain synchronous code.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS
            )
            yield browser
            browser.close()
    finally:
        del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]


@pytest.fixture
def page_as(chromium, live_server, users):
    """``page_as("annotator")`` signs that user in through the login form; returns the page."""
    contexts = []

    def sign_in(key: str):
        context = chromium.new_context(viewport=VIEWPORT)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(60_000)
        page.goto(f"{live_server.url}/accounts/login/")
        page.fill("#id_username", users[key].username)
        page.fill("#id_password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{live_server.url}/")
        return page

    yield sign_in
    for context in contexts:
        context.close()


def open_viewer(page, base_url: str, series_id: int, result: int | None = None):
    query = f"?result={result}" if result else ""
    page.goto(f"{base_url}/annotations/series/{series_id}/{query}")
    wait_ready(page)


def wait_ready(page):
    page.wait_for_selector("#viewer-app[data-ready='1']", timeout=90_000)


def choose_protocol(page, query: str, label: str) -> None:
    """Type ``query`` in the structure search and pick the option showing ``label``."""
    page.fill("#prompt-search", query)
    page.wait_for_selector("#prompt-options li[role=option]")
    page.click(f"#prompt-options li[role=option]:has-text('{label}')")
    page.wait_for_selector("#prompt-chosen:not([hidden])")


def record_job_texts(page) -> None:
    """From now on, every text the job panel shows is kept in ``window.jobTexts``."""
    page.evaluate("""() => {
        window.jobTexts = [];
        new MutationObserver(() => window.jobTexts.push(
            document.querySelector('#job-status').textContent)
        ).observe(document.querySelector('#job-status'), {childList: true, characterData: true,
                                                          subtree: true});
    }""")


def screenshot_pixels(page, selector: str = "#viewport"):
    """The element as the screen shows it, as an RGB array."""
    import io

    import numpy as np
    from PIL import Image

    png = page.locator(selector).screenshot()
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(np.int16)


def keep_screenshot(page, name: str) -> None:
    """Save a full-page screenshot under $MEDSAM_E2E_SCREENSHOTS, when set, to look at."""
    folder = os.environ.get("MEDSAM_E2E_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"))
