from django.db import transaction
from rest_framework import mixins, viewsets

from accounts.permissions import IsSiteAdmin

from .models import WorkerHeartbeat, WorkerProbe
from .serializers import WorkerHeartbeatSerializer, WorkerProbeSerializer
from .tasks import answer_probe


class WorkerViewSet(viewsets.ReadOnlyModelViewSet):
    """Workers that have ever reported, newest heartbeat first (site administrators)."""

    permission_classes = [IsSiteAdmin]
    serializer_class = WorkerHeartbeatSerializer
    queryset = WorkerHeartbeat.objects.order_by("-last_seen")
    lookup_field = "hostname"
    lookup_value_regex = "[^/]+"


class WorkerProbeViewSet(
    mixins.CreateModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Send a probe through the broker; a worker answers it (site administrators)."""

    permission_classes = [IsSiteAdmin]
    serializer_class = WorkerProbeSerializer
    queryset = WorkerProbe.objects.all()

    def perform_create(self, serializer):
        probe = serializer.save()
        transaction.on_commit(lambda: answer_probe.delay(probe.pk))
