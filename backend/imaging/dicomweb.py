"""The DICOMweb subset Cornerstone3D loads natively: QIDO-RS search, WADO-RS series metadata
and frames, and WADO-URI for whole files. Frames are served decoded, as little-endian native
pixels, so the browser needs no codec for any transfer syntax we accept."""

import uuid

import numpy as np
from django.db.models import Count, Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from pydicom.pixels import pixel_array
from pydicom.uid import ExplicitVRLittleEndian
from rest_framework.exceptions import APIException, NotAcceptable, ValidationError
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from . import access
from .models import Instance, Series, Study
from .permissions import CanViewImages

DICOM_JSON = "application/dicom+json"
_YBR = ("YBR_FULL", "YBR_FULL_422", "YBR_ICT", "YBR_RCT", "YBR_PARTIAL_420")


def _element(vr: str, *values) -> dict:
    present = [v for v in values if v not in (None, "")]
    if not present:
        return {"vr": vr}
    if vr == "PN":
        present = [{"Alphabetic": str(v)} for v in present]
    return {"vr": vr, "Value": present}


def _site_studies(request: Request):
    return Study.objects.filter(site_id=request.user.site_id)


def _paged(request: Request, queryset):
    offset = _count_param(request, "offset", 0)
    limit = min(_count_param(request, "limit", 100) or 100, 1000)
    return queryset[offset : offset + limit]


def _count_param(request: Request, name: str, default: int) -> int:
    value = request.query_params.get(name) or str(default)
    if not value.isdigit() or int(value) >= 2**63:
        raise ValidationError({name: f"{name} must be a whole number of 0 or more."})
    return int(value)


DICOMWEB_NOTE = "DICOM JSON (PS3.18 F.2), content type application/dicom+json."


class ImagingDecodeFailed(APIException):
    status_code = 422
    default_detail = "The frame cannot be decoded; the stored file may be damaged."


class BinaryNegotiation(DefaultContentNegotiation):
    """DICOMweb clients ask for the media type of the payload (application/octet-stream,
    multipart/related, application/dicom), which these views write themselves; errors still
    go out as JSON instead of DRF refusing the request with 406."""

    def select_renderer(self, request, renderers, format_suffix=None):
        try:
            return super().select_renderer(request, renderers, format_suffix)
        except NotAcceptable:
            return renderers[0], renderers[0].media_type


class DicomWebView(APIView):
    permission_classes = [CanViewImages]

    def dicom_json(self, payload) -> Response:
        return Response(payload, content_type=DICOM_JSON)


class StudiesSearch(DicomWebView):
    @extend_schema(responses={(200, "application/dicom+json"): OpenApiTypes.ANY},
                   description=DICOMWEB_NOTE)
    def get(self, request: Request) -> Response:
        studies = (
            _site_studies(request)
            .select_related("patient")
            .annotate(
                series_count=Count("series", distinct=True),
                instance_count=Count("series__instances"),
            )
        )
        params = request.query_params
        for key, field in (
            ("StudyInstanceUID", "study_instance_uid"),
            ("PatientID", "patient__patient_id"),
            ("AccessionNumber", "accession_number"),
        ):
            if params.get(key):
                studies = studies.filter(**{field: params[key]})
        if params.get("PatientName"):
            studies = studies.filter(patient__name__icontains=params["PatientName"].strip("*"))
        if params.get("StudyDate"):
            low, _, high = params["StudyDate"].partition("-")
            studies = studies.filter(
                Q(study_date__gte=low) & Q(study_date__lte=high or low)
                if "-" in params["StudyDate"]
                else Q(study_date=low)
            )
        page = list(_paged(request, studies.order_by("-study_date", "id")))
        access.record_read(None, "study search", count=len(page))
        return self.dicom_json([_study_json(s) for s in page])


def _study_json(study: Study) -> dict:
    modalities = sorted({m for m in study.series.values_list("modality", flat=True) if m})
    return {
        "0020000D": _element("UI", study.study_instance_uid),
        "00080020": _element("DA", study.study_date),
        "00080030": _element("TM", study.study_time),
        "00080050": _element("SH", study.accession_number),
        "00081030": _element("LO", study.description),
        "00080061": _element("CS", *modalities),
        "00100010": _element("PN", study.patient.name),
        "00100020": _element("LO", study.patient.patient_id),
        "00100030": _element("DA", study.patient.birth_date),
        "00100040": _element("CS", study.patient.sex),
        "00201206": _element("IS", study.series_count),
        "00201208": _element("IS", study.instance_count),
    }


def _study(request: Request, study_uid: str) -> Study:
    return get_object_or_404(_site_studies(request), study_instance_uid=study_uid)


def _series(request: Request, study_uid: str, series_uid: str) -> Series:
    return get_object_or_404(
        Series, study=_study(request, study_uid), series_instance_uid=series_uid
    )


class SeriesSearch(DicomWebView):
    @extend_schema(responses={(200, "application/dicom+json"): OpenApiTypes.ANY},
                   description=DICOMWEB_NOTE)
    def get(self, request: Request, study_uid: str) -> Response:
        study = _study(request, study_uid)
        series = study.series.annotate(instance_count=Count("instances")).order_by(
            "series_number", "id"
        )
        access.record_read(study, "series search")
        return self.dicom_json(
            [
                {
                    "0020000D": _element("UI", study.study_instance_uid),
                    "0020000E": _element("UI", s.series_instance_uid),
                    "00080060": _element("CS", s.modality),
                    "0008103E": _element("LO", s.description),
                    "00200011": _element("IS", s.series_number),
                    "00201209": _element("IS", s.instance_count),
                }
                for s in series
            ]
        )


class InstancesSearch(DicomWebView):
    @extend_schema(responses={(200, "application/dicom+json"): OpenApiTypes.ANY},
                   description=DICOMWEB_NOTE)
    def get(self, request: Request, study_uid: str, series_uid: str) -> Response:
        series = _series(request, study_uid, series_uid)
        access.record_read(series, "instance search")
        return self.dicom_json(
            [
                {
                    "0020000D": _element("UI", study_uid),
                    "0020000E": _element("UI", series_uid),
                    "00080016": _element("UI", i.sop_class_uid),
                    "00080018": _element("UI", i.sop_instance_uid),
                    "00200013": _element("IS", i.instance_number),
                    "00280008": _element("IS", i.number_of_frames),
                    "00280010": _element("US", i.rows),
                    "00280011": _element("US", i.columns),
                }
                for i in series.instances.all()
            ]
        )


class SeriesMetadata(DicomWebView):
    """Headers of every instance, describing the frames as this server sends them."""

    @extend_schema(responses={(200, "application/dicom+json"): OpenApiTypes.ANY},
                   description=DICOMWEB_NOTE)
    def get(self, request: Request, study_uid: str, series_uid: str) -> Response:
        series = _series(request, study_uid, series_uid)
        headers = access.series_datasets(series, "metadata", headers_only=True)
        return self.dicom_json([_metadata_json(h) for h in headers])


def _metadata_json(header) -> dict:
    if str(header.get("PhotometricInterpretation", "")) in _YBR:
        header.PhotometricInterpretation = "RGB"
        header.PlanarConfiguration = 0
    return header.to_json_dict(bulk_data_threshold=1 << 30)


class Frames(DicomWebView):
    """GET frames/1,2,3 as multipart/related application/octet-stream, native little endian."""

    content_negotiation_class = BinaryNegotiation

    @extend_schema(responses={(200, "multipart/related"): OpenApiTypes.BINARY})
    def get(self, request: Request, study_uid: str, series_uid: str, sop_uid: str, frames: str):
        instance = _instance(request, study_uid, series_uid, sop_uid)
        try:
            numbers = [int(n) for n in frames.split(",")]
        except ValueError:
            return Response({"detail": "Frame numbers must be integers."}, status=400)
        if any(n < 1 or n > instance.number_of_frames for n in numbers):
            raise Http404("No such frame.")
        dataset = access.instance_dataset(instance, "frames")
        boundary = uuid.uuid4().hex
        parts = []
        for number in numbers:
            try:
                frame = pixel_array(dataset, index=number - 1, as_rgb=True)
            except (ValueError, RuntimeError) as exc:
                raise ImagingDecodeFailed() from exc
            native = np.ascontiguousarray(frame, dtype=frame.dtype.newbyteorder("<"))
            parts.append(
                f"--{boundary}\r\nContent-Type: application/octet-stream; "
                f"transfer-syntax={ExplicitVRLittleEndian}\r\n\r\n".encode()
                + native.tobytes()
                + b"\r\n"
            )
        body = b"".join(parts) + f"--{boundary}--\r\n".encode()
        return HttpResponse(
            body,
            content_type=(
                f'multipart/related; type="application/octet-stream"; boundary={boundary}'
            ),
        )


def _instance(request: Request, study_uid: str, series_uid: str, sop_uid: str) -> Instance:
    return get_object_or_404(
        Instance, series=_series(request, study_uid, series_uid), sop_instance_uid=sop_uid
    )


class WadoUri(DicomWebView):
    """WADO-URI: ``?requestType=WADO&studyUID=&seriesUID=&objectUID=`` returns the file."""

    content_negotiation_class = BinaryNegotiation

    @extend_schema(responses={(200, "application/dicom"): OpenApiTypes.BINARY})
    def get(self, request: Request) -> HttpResponse:
        params = request.query_params
        if params.get("requestType") != "WADO":
            return Response({"detail": "requestType must be WADO."}, status=400)
        instance = _instance(
            request,
            params.get("studyUID", ""),
            params.get("seriesUID", ""),
            params.get("objectUID", ""),
        )
        return HttpResponse(
            access.instance_bytes(instance, "file"), content_type="application/dicom"
        )
