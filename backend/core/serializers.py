from rest_framework import serializers

from .models import WorkerHeartbeat, WorkerProbe


class WorkerHeartbeatSerializer(serializers.ModelSerializer):
    class Meta:
        model = WorkerHeartbeat
        fields = ["hostname", "queues", "engines", "pid", "started_at", "last_seen", "stopped_at"]


class WorkerProbeSerializer(serializers.ModelSerializer):
    class Meta:
        model = WorkerProbe
        fields = ["id", "created_at", "answered_by", "answered_at"]
        read_only_fields = fields
