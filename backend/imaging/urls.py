from django.urls import path

from . import pages

app_name = "imaging"

urlpatterns = [
    path("upload/", pages.upload_page, name="upload"),
]
