from rest_framework.routers import SimpleRouter

from . import api_views

app_name = "annotations-api"

router = SimpleRouter(trailing_slash=False)
router.register("jobs", api_views.JobViewSet, basename="job")
router.register("results", api_views.ResultViewSet, basename="result")
urlpatterns = router.urls
