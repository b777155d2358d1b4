from django.urls import path
from rest_framework.routers import SimpleRouter

from . import api_views

app_name = "accounts-api"

router = SimpleRouter(trailing_slash=False)
router.register("users", api_views.UserViewSet, basename="user")
urlpatterns = [
    path("session", api_views.session_login, name="session-login"),
    path("session/logout", api_views.session_logout, name="session-logout"),
    path("me", api_views.me, name="me"),
    path("me/password", api_views.change_own_password, name="me-password"),
    *router.urls,
]
