from django.urls import path
from rest_framework.routers import SimpleRouter

from . import api_views

app_name = "review-api"

router = SimpleRouter(trailing_slash=False)
router.register("items", api_views.QAItemViewSet, basename="item")
router.register("alerts", api_views.AlertViewSet, basename="alert")
router.register("reports", api_views.ReportViewSet, basename="report")

urlpatterns = [
    path("metrics", api_views.metrics_view, name="metrics"),
    path("policy", api_views.policy_view, name="policy"),
    path("policy/watched", api_views.watched_view, name="watched"),
    path("policy/watched/<int:user_id>/remove", api_views.unwatch_view, name="unwatch"),
    *router.urls,
]
