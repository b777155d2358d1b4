"""``POST /api/v1/annotations/preview``: the live preview of a box being drawn (issue 23;
``annotations.preview``). Nothing is stored; the answer is the mask of the box on the slice,
cropped to its bounding box, for the viewer to draw as a preview until the job's draft comes."""
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import HasRole
from accounts.roles import Role
from imaging.models import Series
from prompts.models import PromptVersion

from .preview import PreviewTimedOut, PreviewUnavailable, check_preview, request_preview


class PreviewSerializer(serializers.Serializer):
    series = serializers.PrimaryKeyRelatedField(queryset=Series.objects.all())
    prompt_version = serializers.PrimaryKeyRelatedField(queryset=PromptVersion.objects.all())
    slice = serializers.IntegerField(help_text="The stack index of the slice the box is on.")
    box = serializers.ListField(child=serializers.FloatField(), min_length=4, max_length=4,
                                help_text="[x0, y0, x1, y1] in pixels of the slice.")


class PreviewMaskSerializer(serializers.Serializer):
    origin = serializers.ListField(child=serializers.IntegerField(),
                                   help_text="Row and column of the crop's top-left pixel.")
    shape = serializers.ListField(child=serializers.IntegerField(),
                                  help_text="Rows and columns of the crop; (0, 0) when empty.")
    bits = serializers.CharField(help_text="np.packbits of the crop (C order), zlib, base64.")
    pixels = serializers.IntegerField()


class PreviewResponseSerializer(serializers.Serializer):
    mask = PreviewMaskSerializer()
    iou = serializers.FloatField(help_text="The engine's predicted IoU of the mask.")
    engine = serializers.CharField()
    slice = serializers.IntegerField()
    box = serializers.ListField(child=serializers.FloatField())
    embedding_cached = serializers.BooleanField(
        help_text="False when the worker had to embed the slice first (slow).")
    worker_ms = serializers.DictField(child=serializers.FloatField())
    round_trip_ms = serializers.FloatField()


class PreviewView(APIView):
    """The mask the protocol's engine gives for this box on this slice, now. A preview, never a
    record: it cannot be confirmed, and the job started on release computes the draft."""

    permission_classes = [HasRole.of(Role.ANNOTATOR)]

    @extend_schema(request=PreviewSerializer, responses={200: PreviewResponseSerializer})
    def post(self, request):
        data = PreviewSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        checked = check_preview(request.user, values["series"], values["prompt_version"],
                                values["slice"], values["box"])
        try:
            answer = request_preview(checked)
        except PreviewTimedOut as slow:
            return Response({"detail": str(slow)}, status=status.HTTP_504_GATEWAY_TIMEOUT)
        except PreviewUnavailable as unavailable:
            return Response({"detail": str(unavailable)},
                            status=status.HTTP_503_SERVICE_UNAVAILABLE)
        return Response(answer)
