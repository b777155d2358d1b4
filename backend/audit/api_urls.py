from django.urls import path

from . import api_views

app_name = "audit-api"

urlpatterns = [
    path("entries", api_views.EntryList.as_view(), name="entries"),
    path("entries.csv", api_views.export_csv, name="export-csv"),
    path("entries/<int:seq>", api_views.entry_detail, name="entry"),
    path("objects/<str:object_type>/<path:object_id>", api_views.object_history,
         name="object-history"),
    path("reads", api_views.ReadList.as_view(), name="reads"),
    path("reads.csv", api_views.export_reads_csv, name="reads-csv"),
    path("verify", api_views.verify, name="verify"),
]
