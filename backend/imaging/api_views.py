"""Upload and PACS endpoints. Views are thin: the work is in :mod:`imaging.actions`."""

from django.core.exceptions import PermissionDenied
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from . import pacs
from .actions import VOLUME_MODALITIES, do_ingest
from .outcomes import IngestReport, Status
from .permissions import CanUploadImages

UPLOAD_FORM = {
    "type": "object",
    "properties": {
        "files": {"type": "array", "items": {"type": "string", "format": "binary"}},
        "patient_id": {"type": "string"},
        "modality": {"type": "string", "enum": list(VOLUME_MODALITIES)},
    },
    "required": ["files"],
}


def user_site(user):
    if user.site_id is None:
        raise PermissionDenied("Your account belongs to no site; ask a site administrator.")
    return user.site


def report_response(report: IngestReport) -> Response:
    """201 when every file was imported or already stored; 400 when any file was rejected
    (the body still lists what was imported alongside the reasons)."""
    body = report.as_dict()
    if not report.files:
        return Response({"detail": "No files were sent.", **body}, status.HTTP_400_BAD_REQUEST)
    rejected = report.count(Status.REJECTED)
    if rejected:
        body["detail"] = f"{rejected} file(s) rejected; the others were imported."
        return Response(body, status=status.HTTP_400_BAD_REQUEST)
    return Response(body, status=status.HTTP_201_CREATED)


class UploadView(APIView):
    """POST multipart ``files`` (DICOM, NIfTI, NRRD or zip, many at once; a folder's files
    with their relative names). Optional ``patient_id`` for NIfTI/NRRD files."""

    permission_classes = [CanUploadImages]
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        request={"multipart/form-data": UPLOAD_FORM},
        responses={201: OpenApiTypes.OBJECT, 400: OpenApiTypes.OBJECT},
    )
    def post(self, request: Request) -> Response:
        site = user_site(request.user)
        files = request.FILES.getlist("files")
        modality = str(request.data.get("modality", "")).upper()
        if modality and modality not in VOLUME_MODALITIES:
            return Response(
                {"modality": [f"Use one of {', '.join(VOLUME_MODALITIES)}."]},
                status=status.HTTP_400_BAD_REQUEST,
            )
        report = do_ingest(
            ((f.name, f, f.size) for f in files),
            site=site,
            actor=request.user,
            patient_id=str(request.data.get("patient_id", ""))[:64],
            modality=modality,
        )
        return report_response(report)


class PacsStudiesView(APIView):
    """GET: search the PACS (QIDO-RS) by PatientID, PatientName, StudyDate, AccessionNumber."""

    permission_classes = [CanUploadImages]

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request: Request) -> Response:
        filters = {
            key: request.query_params[key]
            for key in pacs.SEARCH_KEYS
            if request.query_params.get(key)
        }
        studies = pacs.search_studies(filters, actor=request.user)
        return Response({"studies": studies})


class PacsImportView(APIView):
    """POST ``study_uid``: retrieve the study from the PACS (WADO-RS) and import it."""

    permission_classes = [CanUploadImages]

    @extend_schema(
        request=OpenApiTypes.OBJECT, responses={201: OpenApiTypes.OBJECT, 400: OpenApiTypes.OBJECT}
    )
    def post(self, request: Request) -> Response:
        study_uid = str(request.data.get("study_uid", "")).strip()
        if not study_uid:
            return Response({"detail": "study_uid is required."}, status.HTTP_400_BAD_REQUEST)
        report = pacs.import_study(study_uid, site=user_site(request.user), actor=request.user)
        return report_response(report)
