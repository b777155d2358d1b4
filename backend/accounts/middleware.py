import time

from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode

SESSION_KEY = "last_activity"


def record_activity(request) -> None:
    """Note now as the session's last activity (every request, and the sign-in itself)."""
    request.session[SESSION_KEY] = int(time.time())


class InactivityLogoutMiddleware:
    """Ends an authenticated session after ``SESSION_IDLE_TIMEOUT_SECONDS`` without a request.

    Browsers get sent to the login page with a note; API calls get 401 with the reason.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            now = int(time.time())
            last = request.session.get(SESSION_KEY)
            if last is not None and now - int(last) > settings.SESSION_IDLE_TIMEOUT_SECONDS:
                from .actions import do_logout

                do_logout(request, reason="automatic logoff after inactivity")
                if request.path.startswith("/api/"):
                    return JsonResponse(
                        {"detail": "Session ended after inactivity; sign in again."}, status=401
                    )
                return redirect(f"{reverse(settings.LOGIN_URL)}?idle=1")
            record_activity(request)
        return self.get_response(request)


class PasswordChangeRequiredMiddleware:
    """While ``must_change_password`` is set (a temporary password from an administrator),
    pages lead to the password page and the API answers 403 saying so. The account also holds
    no role meanwhile (``User.has_role``), so nothing is reachable around this."""

    OPEN = ("/accounts/password/", "/accounts/logout/", "/api/v1/accounts/me",
            "/api/v1/accounts/session", "/static/", "/healthz", "/favicon")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (user is not None and user.is_authenticated and user.must_change_password
                and not request.path.startswith(self.OPEN)):
            if request.path.startswith("/api/"):
                return JsonResponse({"detail": "Choose your own password first "
                                     "(POST /api/v1/accounts/me/password)."}, status=403)
            return redirect(f"{reverse('accounts:password')}?{urlencode({'next': request.path})}")
        return self.get_response(request)
