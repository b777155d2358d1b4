from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_POST

from .actions import LoginRefused, do_login, do_logout
from .forms import LoginForm


@never_cache
@csrf_protect
def login_view(request):
    form = LoginForm(request.POST or None)
    error = None
    if request.method == "POST" and form.is_valid():
        try:
            do_login(request, form.cleaned_data["username"], form.cleaned_data["password"])
        except LoginRefused as refused:
            error = str(refused)
        else:
            target = request.GET.get("next", "")
            if not url_has_allowed_host_and_scheme(target, {request.get_host()}):
                target = "/"
            return redirect(target or "/")
    status = 400 if error else 200
    context = {"form": form, "error": error, "idle": "idle" in request.GET}
    return render(request, "accounts/login.html", context, status=status)


@require_POST
def logout_view(request):
    do_logout(request)
    return redirect("accounts:login")
