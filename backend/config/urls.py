from django.urls import include, path
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerSplitView,
)

APPS = ["accounts", "audit", "imaging", "prompts", "annotations", "review", "exports", "learning",
        "core"]

urlpatterns = [
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # Swagger UI with its start-up script as a separate same-origin request (?script), not an
    # inline <script>: a Content-Security-Policy of script-src 'self' lets it run.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"),
         name="api-docs"),
    # Redoc without drf-spectacular's Google Fonts links (api_docs/redoc.html), so it makes no
    # request off the site.
    path("api/redoc/", SpectacularRedocView.as_view(
        url_name="api-schema", template_name="api_docs/redoc.html"), name="api-redoc"),
    *[path(f"api/v1/{app}/", include(f"{app}.api_urls")) for app in APPS],
    *[path(f"{app}/", include(f"{app}.urls")) for app in APPS if app != "core"],
    path("", include("ops.urls")),
    path("", include("core.urls")),
]
