import time

from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import reverse

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
