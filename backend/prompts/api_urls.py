from django.urls import path

from . import api_views as views

app_name = "prompts-api"

urlpatterns = [
    path("entries/", views.EntryList.as_view(), name="entries"),
    path("entries/<slug:key>/", views.EntryDetail.as_view(), name="entry"),
    path("versions/diff/", views.VersionDiff.as_view(), name="diff"),
    path("versions/<int:pk>/", views.VersionDetail.as_view(), name="version"),
    path("versions/<int:pk>/content/", views.DraftContent.as_view(), name="content"),
    path("versions/<int:pk>/edit/", views.CreateDraft.as_view(), name="edit"),
    path("versions/<int:pk>/submit/", views.Submit.as_view(), name="submit"),
    path("versions/<int:pk>/approve/", views.Approve.as_view(), name="approve"),
    path("versions/<int:pk>/reject/", views.Reject.as_view(), name="reject"),
    path("versions/<int:pk>/retire/", views.Retire.as_view(), name="retire"),
    path("resolve/", views.Resolve.as_view(), name="resolve"),
    path("export/", views.Export.as_view(), name="export"),
    path("import/preview/", views.Import.as_view(preview=True), name="import-preview"),
    path("import/", views.Import.as_view(), name="import"),
]
