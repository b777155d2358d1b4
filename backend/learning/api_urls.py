from django.urls import path

from . import api_views

app_name = "learning-api"

urlpatterns = [
    path("sets", api_views.TrainingSetList.as_view(), name="sets"),
    path("jobs", api_views.TrainingJobList.as_view(), name="jobs"),
    path("jobs/<uuid:public_id>", api_views.TrainingJobDetail.as_view(), name="job"),
    path("jobs/<uuid:public_id>/cancel", api_views.CancelTraining.as_view(), name="cancel"),
    path("models", api_views.ModelVersionList.as_view(), name="models"),
    path("uncertainty", api_views.UncertaintyList.as_view(), name="uncertainty"),
]
