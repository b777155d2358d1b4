"""The learning page: training sets, fine-tune jobs with progress, and model versions with
their before/after validation figures, for prompt-library and site administrators."""
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render

from accounts.roles import Role

from .models import ModelVersion, TrainingJob, TrainingSet


@login_required
def overview(request):
    user = request.user
    if not (user.has_role(Role.PROMPT_ADMIN) or user.has_role(Role.SITE_ADMIN)):
        raise PermissionDenied("Only prompt-library or site administrators see model training.")
    return render(request, "learning/overview.html", {
        "sets": TrainingSet.objects.filter(site=user.site)[:50],
        "jobs": TrainingJob.objects.filter(training_set__site=user.site)[:50],
        "versions": ModelVersion.objects.filter(site=user.site)[:50],
    })
