from django.urls import path

from . import pages

app_name = "annotations"

urlpatterns = [
    path("", pages.worklist_page, name="worklist"),
    path("series/<int:pk>/", pages.viewer_page, name="viewer"),
    path("results/<int:pk>/", pages.result_page, name="result"),
]
