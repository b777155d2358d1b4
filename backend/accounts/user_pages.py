"""The site administrator's user pages (list, create, one user's roles, disable, password
reset) and everyone's own password page. The actions are ``user_admin`` and
``actions.do_set_roles``; refusals are shown on the page with their reason."""
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from .actions import do_set_roles
from .models import User
from .roles import ROLE_LABELS, Role
from .user_admin import do_change_own_password, do_create_user, do_reset_password, do_set_active

ROLE_CHOICES = [(role.value, ROLE_LABELS[role]) for role in Role]


def _require_site_admin(request) -> None:
    if not request.user.has_role(Role.SITE_ADMIN):
        raise PermissionDenied("User management is for site administrators.")


def _site_user(request, pk) -> User:
    return get_object_or_404(User, pk=pk, site_id=request.user.site_id)


def _refusals(error: ValidationError | PermissionDenied) -> list[str]:
    if isinstance(error, PermissionDenied):
        return [str(error)]
    if hasattr(error, "message_dict"):
        return [m for messages_ in error.message_dict.values() for m in messages_]
    return list(error.messages)


@login_required
def user_list(request):
    _require_site_admin(request)
    users = User.objects.filter(site_id=request.user.site_id).order_by("username")
    return render(request, "accounts/users.html", {
        "people": [(u, sorted(u.role_names())) for u in users.prefetch_related("groups")],
    })


@login_required
def user_new(request):
    _require_site_admin(request)
    errors, values = [], {"roles": []}
    if request.method == "POST":
        values = {
            "username": request.POST.get("username", ""),
            "printed_name": request.POST.get("printed_name", ""),
            "email": request.POST.get("email", ""),
            "roles": request.POST.getlist("roles"),
        }
        try:
            user, password = do_create_user(request.user, **values,
                                            reason=request.POST.get("reason", ""))
        except (ValidationError, PermissionDenied) as error:
            errors = _refusals(error)
        else:
            return render(request, "accounts/temporary_password.html", {
                "person": user, "password": password, "created": True})
    return render(request, "accounts/user_new.html", {
        "errors": errors, "values": values, "role_choices": ROLE_CHOICES,
    }, status=400 if errors else 200)


@login_required
def user_detail(request, pk):
    _require_site_admin(request)
    person = _site_user(request, pk)
    return render(request, "accounts/user.html", {
        "person": person, "roles": sorted(person.role_names()), "role_choices": ROLE_CHOICES,
        "is_self": person.pk == request.user.pk,
    })


@login_required
@require_POST
def user_act(request, pk, step):
    _require_site_admin(request)
    person = _site_user(request, pk)
    reason = request.POST.get("reason", "")
    try:
        if step == "roles":
            do_set_roles(request.user, person, request.POST.getlist("roles"), reason=reason)
            messages.success(request, f"Roles of {person.username} saved.")
        elif step in ("disable", "enable"):
            do_set_active(request.user, person, step == "enable", reason=reason)
            messages.success(request, f"{person.username} is now {step}d.")
        elif step == "reset-password":
            password = do_reset_password(request.user, person, reason=reason)
            return render(request, "accounts/temporary_password.html", {
                "person": person, "password": password, "created": False})
        else:
            raise PermissionDenied(f"Unknown action {step!r}.")
    except (ValidationError, PermissionDenied) as error:
        for text in _refusals(error):
            messages.error(request, text)
    return redirect("accounts:user", pk=person.pk)


@login_required
def own_password(request):
    """Choose a new password; the only page open while one is required."""
    errors = []
    target = request.GET.get("next", "")
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}):
        target = ""
    if request.method == "POST":
        if request.POST.get("new_password") != request.POST.get("repeat_password"):
            errors = ["The two new passwords differ."]
        else:
            try:
                user = do_change_own_password(request.user,
                                              current=request.POST.get("current_password", ""),
                                              new=request.POST.get("new_password", ""))
            except ValidationError as error:
                errors = _refusals(error)
            else:
                update_session_auth_hash(request, user)
                messages.success(request, "Your password is changed.")
                return redirect(target or "/")
    return render(request, "accounts/password.html", {
        "errors": errors, "required": request.user.must_change_password,
    }, status=400 if errors else 200)
