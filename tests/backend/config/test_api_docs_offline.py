"""The API docs (Swagger UI at /api/docs/, Redoc at /api/redoc/) work without internet access:
every script, style and icon they load comes from this site (drf-spectacular-sidecar's static
files), and the site answers /favicon.ico. The browser half is tests/browser/test_api_docs.py."""
import json
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.core.management import call_command

SIDECAR_FILES = [
    "drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js",
    "drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-standalone-preset.js",
    "drf_spectacular_sidecar/swagger-ui-dist/swagger-ui.css",
    "drf_spectacular_sidecar/swagger-ui-dist/favicon-32x32.png",
    "drf_spectacular_sidecar/redoc/bundles/redoc.standalone.js",
]


class Assets(HTMLParser):
    """The URLs a page loads (script src, link href, img src) and its inline scripts."""

    def __init__(self):
        super().__init__()
        self.urls: list[str] = []
        self.inline_scripts: list[str] = []
        self._in_script_without_src = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script":
            if attrs.get("src"):
                self.urls.append(attrs["src"])
            else:
                self._in_script_without_src = True
        elif tag == "link" and attrs.get("href"):
            self.urls.append(attrs["href"])
        elif tag in ("img", "iframe") and attrs.get("src"):
            self.urls.append(attrs["src"])

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script_without_src = False

    def handle_data(self, data):
        if self._in_script_without_src and data.strip():
            self.inline_scripts.append(data)


def assets_of(html: str) -> Assets:
    parser = Assets()
    parser.feed(html)
    return parser


def is_same_origin(url: str) -> bool:
    return url.startswith("/") and not url.startswith("//")


def body_of(response) -> bytes:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)
    return response.content


@pytest.mark.django_db
@pytest.mark.parametrize("page", ["/api/docs/", "/api/redoc/"])
def test_the_docs_pages_load_only_same_origin_assets_and_every_one_is_served(browser_as, page):
    client = browser_as("annotator")
    response = client.get(page)
    assert response.status_code == 200
    html = response.content.decode()
    assert "http://" not in html and "https://" not in html, "a URL off this site"
    assets = assets_of(html)
    assert assets.urls, "the page loads nothing?"
    off_site = [url for url in assets.urls if not is_same_origin(url)]
    assert not off_site, f"assets from another origin: {off_site}"
    # No inline script: a Content-Security-Policy of script-src 'self' lets these pages run.
    assert not assets.inline_scripts
    for url in assets.urls:
        asset = client.get(url)
        assert asset.status_code == 200, f"{url} answered {asset.status_code}"
        assert body_of(asset), f"{url} is empty"


@pytest.mark.django_db
def test_swagger_ui_comes_from_the_sidecar_and_its_start_script_is_a_separate_request(
    browser_as,
):
    client = browser_as("reviewer")
    urls = assets_of(client.get("/api/docs/").content.decode()).urls
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in urls
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui.css" in urls
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/favicon-32x32.png" in urls
    [script] = [url for url in urls if url.startswith("/api/docs/")]
    response = client.get(script)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/javascript")
    assert b"SwaggerUIBundle(" in response.content and b'"/api/schema/"' in response.content


@pytest.mark.django_db
def test_redoc_comes_from_the_sidecar_and_names_the_schema(browser_as):
    html = browser_as("auditor").get("/api/redoc/").content.decode()
    assert "/static/drf_spectacular_sidecar/redoc/bundles/redoc.standalone.js" in assets_of(
        html).urls
    assert 'spec-url="/api/schema/"' in html
    assert "fonts.googleapis.com" not in html


@pytest.mark.django_db
@pytest.mark.parametrize("page", ["/api/docs/", "/api/redoc/"])
def test_the_docs_stay_for_signed_in_users(client, page):
    assert client.get(page).status_code in (401, 403)


@pytest.mark.parametrize("name", SIDECAR_FILES)
def test_the_sidecar_files_are_served_as_static_files(client, name):
    found = finders.find(name)
    assert found, f"{name} is not found by the static file finders"
    response = client.get(f"/static/{name}")
    assert response.status_code == 200
    assert body_of(response) == Path(found).read_bytes()


def test_collectstatic_gathers_the_sidecar_and_the_favicon(tmp_path, settings):
    """What production serves (no finders at run time): collectstatic's output, with the
    production storage (hashed names; it fails on a reference to a missing file, such as a
    source map)."""
    settings.STATIC_ROOT = tmp_path / "static"
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
    call_command("collectstatic", "--noinput", "--verbosity", "0")
    manifest = json.loads((tmp_path / "static" / "staticfiles.json").read_text())["paths"]
    for name in [*SIDECAR_FILES, "favicon.svg"]:
        assert (tmp_path / "static" / name).is_file(), name
        assert (tmp_path / "static" / manifest[name]).is_file(), manifest[name]


def test_favicon_ico_is_answered_to_anyone(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response["Content-Type"] in ("image/x-icon", "image/vnd.microsoft.icon")
    assert body_of(response)[:4] == b"\x00\x00\x01\x00"  # an ICO file


def test_the_pages_name_the_svg_favicon_and_it_is_served(client):
    html = client.get("/accounts/login/").content.decode()
    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in html
    response = client.get("/static/favicon.svg")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("image/svg+xml")
    assert b"<svg" in body_of(response)
