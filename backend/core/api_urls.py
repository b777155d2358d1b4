from rest_framework.routers import SimpleRouter

from . import api_views

app_name = "core-api"

router = SimpleRouter(trailing_slash=False)
router.register("workers", api_views.WorkerViewSet, basename="worker")
router.register("probes", api_views.WorkerProbeViewSet, basename="probe")
urlpatterns = router.urls
