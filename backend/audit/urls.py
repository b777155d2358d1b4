from django.urls import path

from . import views

app_name = "audit"

urlpatterns = [
    path("", views.trail, name="trail"),
    path("export.csv", views.export_csv, name="export-csv"),
    path("entries/<int:seq>/", views.entry, name="entry"),
    path("objects/<str:object_type>/<path:object_id>/", views.object_history,
         name="object-history"),
    path("verify/", views.verify, name="verify"),
]
