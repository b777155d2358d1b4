"""The upload page: files, a zip or a whole folder, with the per-file report."""
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render

from accounts.roles import Role

from .actions import VOLUME_MODALITIES, do_ingest
from .outcomes import Status


@login_required
def upload_page(request):
    if not request.user.has_role(Role.ANNOTATOR, Role.SITE_ADMIN):
        raise PermissionDenied("Only annotators and site administrators import images.")
    context = {"modalities": VOLUME_MODALITIES, "report": None, "error": None}
    status = 200
    if request.method == "POST":
        files = request.FILES.getlist("files")
        modality = request.POST.get("modality", "")
        if request.user.site_id is None:
            context["error"] = "Your account belongs to no site; ask a site administrator."
            status = 403
        elif not files:
            context["error"] = "Choose files, a zip or a folder to import."
            status = 400
        elif modality and modality not in VOLUME_MODALITIES:
            context["error"] = f"Unknown modality {modality!r}."
            status = 400
        else:
            report = do_ingest(
                ((f.name, f, f.size) for f in files),
                site=request.user.site,
                actor=request.user,
                patient_id=request.POST.get("patient_id", "")[:64],
                modality=modality,
            )
            context["report"] = report
            context["summary"] = report.summary()
            status = 400 if report.count(Status.REJECTED) else 201
    return render(request, "imaging/upload.html", context, status=status)
