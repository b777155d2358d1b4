"""The API docs in a real headless Chromium with no way off the machine: every request that is
not to the live test server on 127.0.0.1 is aborted (and fails the test), as on a hospital
network without internet access. Swagger UI (/api/docs/) lists every API tag's operations,
Redoc (/api/redoc/) renders them, no page logs an error or gets a 404, and each page's icon and
/favicon.ico answer 200.

Chromium and Playwright as in tests/e2e: without them these tests skip, except under CI, where
they fail.
"""
import os
from urllib.parse import urlsplit

import pytest

from tests.conftest import PASSWORD
from tests.e2e.conftest import CHROMIUM, CHROMIUM_FLAGS, VIEWPORT, _missing

# The live server listens on the loopback interface only.
os.environ.setdefault("DJANGO_LIVE_TEST_SERVER_ADDRESS", "127.0.0.1")

pytestmark = pytest.mark.django_db(transaction=True)

# Redoc's bundle shows Redocly's logo (from its CDN) beside "API docs by Redocly" at the foot of
# the menu, whatever the options; offline the image fails and Redoc drops it (its onError). The
# only request off the site these pages may try: it is aborted here like the rest, and the
# tests check the page works without it.
TOLERATED_OFF_SITE = {"https://cdn.redoc.ly/redoc/logo-mini.svg"}

TAGS = ["accounts", "annotations", "audit", "core", "exports", "imaging", "learning", "prompts",
        "review"]


@pytest.fixture(scope="module")
def chromium():
    if not CHROMIUM.is_file():
        _missing(f"{CHROMIUM} is missing: apt-get install -y chromium chromium-driver")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("Playwright for Python is missing: pip install playwright==1.65.2 "
                 "(never `playwright install`; it drives Debian's chromium)")
    # Playwright's sync API keeps an event loop in this thread, which Django takes for async
    # code; the fixtures' ORM calls are plain synchronous code.
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


class Offline:
    """A signed-in page whose requests off the live server are aborted and recorded, with the
    answers of 400 and above and the console's errors."""

    def __init__(self, browser, base_url: str):
        self.origin = "{0.scheme}://{0.netloc}".format(urlsplit(base_url))
        assert urlsplit(base_url).hostname == "127.0.0.1"
        self.base_url = base_url
        self.blocked: list[str] = []
        self.failed: list[str] = []
        self.console_errors: list[str] = []
        self.context = browser.new_context(viewport=VIEWPORT, service_workers="block")
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.page.set_default_timeout(60_000)
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda error: self.console_errors.append(f"pageerror {error}"))
        self.page.on("response", self._response)

    def _route(self, route):
        url = route.request.url
        if url.startswith(("data:", "blob:")) or url.startswith(self.origin + "/"):
            route.continue_()
        else:
            self.blocked.append(url)
            route.abort("internetdisconnected")

    def _console(self, message):
        if message.type == "error" and message.location.get("url") not in TOLERATED_OFF_SITE:
            self.console_errors.append(f"{message.text} ({message.location.get('url')})")

    def _response(self, response):
        if response.status >= 400:
            self.failed.append(f"{response.status} {response.url}")

    def sign_in(self, username: str):
        page = self.page
        page.goto(f"{self.base_url}/accounts/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{self.base_url}/")

    def icons_answer(self) -> dict[str, tuple[int, str]]:
        """Each <link rel=icon> of the page and /favicon.ico: status and content type. Fetched
        with the page's cookies but outside the page (Playwright hides favicon.ico requests
        from the page's network events, which the route above cannot then let through)."""
        urls = self.page.eval_on_selector_all(
            "link[rel~='icon']", "(links) => links.map((link) => link.href)")
        answers = {}
        for url in [*urls, f"{self.origin}/favicon.ico"]:
            response = self.page.request.get(url)
            answers[url] = (response.status, response.headers.get("content-type", ""))
        return answers

    def assert_clean(self):
        off_site = [url for url in self.blocked if url not in TOLERATED_OFF_SITE]
        assert not off_site, f"requests off the site: {off_site}"
        assert not self.failed, f"answers of 400 and above: {self.failed}"
        assert not self.console_errors, f"console errors: {self.console_errors}"

    def close(self):
        self.context.close()


@pytest.fixture
def offline(chromium, live_server, users):
    pages = []

    def open_as(key: str) -> Offline:
        offline = Offline(chromium, live_server.url)
        pages.append(offline)
        offline.sign_in(users[key].username)
        return offline

    yield open_as
    for offline in pages:
        offline.close()


def assert_icons(offline: Offline, *, expected: int):
    answers = offline.icons_answer()
    assert len(answers) == expected, answers
    for url, (status, content_type) in answers.items():
        assert status == 200, f"{url} answered {status}"
        assert content_type.startswith("image/"), f"{url} is {content_type}"


def test_swagger_ui_lists_every_tags_operations_offline(offline, live_server):
    docs = offline("annotator")
    page = docs.page
    page.goto(f"{live_server.url}/api/docs/", wait_until="networkidle")
    page.wait_for_selector(".opblock", timeout=60_000)
    for tag in TAGS:
        section = page.locator(f".opblock-tag-section:has(h3[data-tag='{tag}'])")
        assert section.count() == 1, f"no section for the tag {tag}"
        assert section.locator(".opblock").count() >= 1, f"no operations under {tag}"
    assert page.locator(".opblock").count() >= 50
    me = page.locator(".opblock-get:has([data-path='/api/v1/accounts/me'])")
    assert me.count() == 1
    # The schema really was read (not a cached error page): opening an operation shows it.
    me.locator(".opblock-summary").click()
    page.wait_for_selector(".opblock.is-open .responses-wrapper")
    assert "The signed-in user with their roles." in page.locator(
        ".opblock.is-open .opblock-description-wrapper").first.inner_text()
    assert page.locator(".errors-wrapper").count() == 0
    assert_icons(docs, expected=2)  # Swagger UI's icon (from the sidecar) and /favicon.ico
    docs.assert_clean()


def test_redoc_renders_the_operations_offline(offline, live_server):
    docs = offline("reviewer")
    page = docs.page
    page.goto(f"{live_server.url}/api/redoc/", wait_until="networkidle")
    heading = page.locator("h2", has_text="accounts_me_retrieve")
    heading.first.wait_for(state="visible", timeout=60_000)
    assert page.get_by_text("The signed-in user with their roles.").first.is_visible()
    for tag in TAGS:
        assert page.locator(f"#tag\\/{tag}").count() == 1, f"no section for the tag {tag}"
    assert_icons(docs, expected=2)  # the site's SVG icon and /favicon.ico
    docs.assert_clean()


def test_the_apps_pages_have_an_icon_and_log_no_404(offline, live_server):
    docs = offline("annotator")
    page = docs.page
    for url in ["/", "/prompts/", "/accounts/login/"]:
        page.goto(f"{live_server.url}{url}", wait_until="networkidle")
        assert_icons(docs, expected=2)  # the site's SVG icon and /favicon.ico
    # DRF's browsable API names no icon, so a desktop browser asks for /favicon.ico. Headless
    # Chromium logs nothing for it (and Playwright hides favicon.ico requests), hence the
    # explicit request in assert_icons.
    page.goto(f"{live_server.url}/api/v1/accounts/me", wait_until="networkidle")
    assert page.locator("link[rel~='icon']").count() == 0
    assert_icons(docs, expected=1)
    docs.assert_clean()
