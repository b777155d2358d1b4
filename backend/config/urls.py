from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

APPS = ["accounts", "audit", "imaging", "prompts", "annotations", "review", "exports", "learning",
        "core"]

urlpatterns = [
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    *[path(f"api/v1/{app}/", include(f"{app}.api_urls")) for app in APPS],
    *[path(f"{app}/", include(f"{app}.urls")) for app in APPS if app != "core"],
    path("", include("ops.urls")),
    path("", include("core.urls")),
]
