from django.urls import path

from . import views

app_name = "exports"

urlpatterns = [
    path("results/<int:pk>/", views.result_exports, name="result"),
    path("results/<int:pk>/seg", views.download_seg, name="download-seg"),
    path("results/<int:pk>/nifti", views.download_nifti, name="download-nifti"),
    path("results/<int:pk>/push", views.push_seg, name="push-seg"),
    path("series/<int:pk>/references/", views.series_references, name="references"),
]
