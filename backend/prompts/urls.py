from django.urls import path

from . import views

app_name = "prompts"

urlpatterns = [
    path("", views.library, name="library"),
    path("new-entry/", views.new_entry, name="new-entry"),
    path("entries/<slug:key>/", views.entry, name="entry"),
    path("versions/<int:pk>/", views.version, name="version"),
    path("versions/<int:pk>/edit/", views.edit, name="edit"),
    path("versions/<int:pk>/<slug:action>/", views.act, name="act"),
    path("diff/", views.diff, name="diff"),
    path("exchange/", views.exchange, name="exchange"),
]
