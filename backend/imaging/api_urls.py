from django.urls import path

from . import api_views, dicomweb

app_name = "imaging-api"

STUDY = "dicom-web/studies/<str:study_uid>"
SERIES = f"{STUDY}/series/<str:series_uid>"

urlpatterns = [
    path("uploads/", api_views.UploadView.as_view(), name="upload"),
    path("pacs/studies/", api_views.PacsStudiesView.as_view(), name="pacs-studies"),
    path("pacs/import/", api_views.PacsImportView.as_view(), name="pacs-import"),
    path("dicom-web/studies", dicomweb.StudiesSearch.as_view(), name="qido-studies"),
    path(f"{STUDY}/series", dicomweb.SeriesSearch.as_view(), name="qido-series"),
    path(f"{SERIES}/instances", dicomweb.InstancesSearch.as_view(), name="qido-instances"),
    path(f"{SERIES}/metadata", dicomweb.SeriesMetadata.as_view(), name="wado-metadata"),
    path(
        f"{SERIES}/instances/<str:sop_uid>/frames/<str:frames>",
        dicomweb.Frames.as_view(),
        name="wado-frames",
    ),
    path("wado", dicomweb.WadoUri.as_view(), name="wado-uri"),
]
