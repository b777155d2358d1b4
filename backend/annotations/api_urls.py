from django.urls import path
from rest_framework.routers import SimpleRouter

from . import api_views, preview_api, worklist

app_name = "annotations-api"

router = SimpleRouter(trailing_slash=False)
router.register("jobs", api_views.JobViewSet, basename="job")
router.register("results", api_views.ResultViewSet, basename="result")
urlpatterns = [
    path("worklist", worklist.WorklistView.as_view(), name="worklist"),
    path("series/<int:pk>/layout", worklist.SeriesLayoutView.as_view(), name="series-layout"),
    path("prefetch", api_views.PrefetchView.as_view(), name="prefetch"),
    path("preview", preview_api.PreviewView.as_view(), name="preview"),
    *router.urls,
]
