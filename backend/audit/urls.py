from django.urls import path

from . import views

app_name = "audit"

urlpatterns = [
    path("", views.trail, name="trail"),
    path("export.csv", views.export_csv, name="export-csv"),
    path("entries/<int:seq>/", views.entry, name="entry"),
    path("objects/<str:object_type>/<path:object_id>/", views.object_history,
         name="object-history"),
    path("reads/", views.reads, name="reads"),
    path("reads.csv", views.export_reads_csv, name="reads-csv"),
    path("verify/", views.verify, name="verify"),
]
