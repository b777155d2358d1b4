from django.urls import path

from . import api_views

app_name = "exports-api"

urlpatterns = [
    path("", api_views.ExportListView.as_view(), name="list"),
    path("seg", api_views.SegDownloadView.as_view(), name="seg"),
    path("seg/push", api_views.SegPushView.as_view(), name="seg-push"),
    path("results/<int:pk>/nifti", api_views.NiftiDownloadView.as_view(), name="nifti"),
    path("results/<int:pk>/comparison", api_views.ResultComparisonView.as_view(),
         name="comparison"),
    path("references", api_views.ReferenceListView.as_view(), name="references"),
    path("references/pacs", api_views.ReferencePacsView.as_view(), name="references-pacs"),
]
