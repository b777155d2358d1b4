from django.conf import settings

from .roles import Role


def roles(request):
    user = getattr(request, "user", None)
    names = user.role_names() if user is not None and user.is_authenticated else set()
    if names and user.must_change_password:
        names = set()  # no role until the user has their own password (User.has_role)
    return {
        "user_roles": names,
        "Role": Role,
        "idle_seconds": settings.SESSION_IDLE_TIMEOUT_SECONDS,
    }
