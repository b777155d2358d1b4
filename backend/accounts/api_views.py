from django.middleware.csrf import get_token
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.authentication import SessionAuthentication
from rest_framework.decorators import action, api_view, permission_classes
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response

from .actions import LoginRefused, do_login, do_logout, do_set_roles
from .models import User
from .permissions import IsSiteAdmin
from .serializers import (
    AccountChangeReasonSerializer,
    LoginSerializer,
    NewUserCreatedSerializer,
    NewUserSerializer,
    PasswordChangeSerializer,
    RolesSerializer,
    TemporaryPasswordSerializer,
    UserSerializer,
)
from .user_admin import do_change_own_password, do_create_user, do_reset_password, do_set_active


class SessionStateSerializer(serializers.Serializer):
    authenticated = serializers.BooleanField()
    user = UserSerializer(allow_null=True)


@extend_schema(
    methods=["GET"], request=None, responses={200: SessionStateSerializer},
    description="Whether this browser is signed in; sets the CSRF cookie a sign-in needs.",
)
@extend_schema(
    methods=["POST"], request=LoginSerializer, responses={200: UserSerializer},
    description="Sign in with user name and password; starts a session (cookie). Send the "
    "CSRF cookie's value in X-CSRFToken (GET this endpoint first), so that no other page "
    "can sign a browser into an account of its choosing.",
)
@api_view(["GET", "POST"])
@permission_classes([AllowAny])
def session_login(request):
    # Throttled by ``accounts.throttle`` in ``do_login``, the same limits as the sign-in form;
    # not by a DRF rate per address, which would deny everyone behind one proxy and believes
    # any X-Forwarded-For.
    if request.method == "GET":
        get_token(request._request)
        user = request.user if request.user.is_authenticated else None
        return Response({"authenticated": user is not None,
                         "user": UserSerializer(user).data if user else None})
    SessionAuthentication().enforce_csrf(request)
    data = LoginSerializer(data=request.data)
    data.is_valid(raise_exception=True)
    try:
        user = do_login(request._request, **data.validated_data)
    except LoginRefused as refused:
        return Response({"detail": str(refused)}, status=status.HTTP_403_FORBIDDEN)
    get_token(request._request)
    return Response(UserSerializer(user).data)


@extend_schema(request=None, responses={204: None})
@api_view(["POST"])
@permission_classes([IsAuthenticated])
def session_logout(request):
    """End the session."""
    do_logout(request._request)
    return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(responses={200: UserSerializer})
@api_view(["GET"])
@permission_classes([IsAuthenticated])
def me(request):
    """The signed-in user with their roles."""
    return Response(UserSerializer(request.user).data)


@extend_schema(request=PasswordChangeSerializer, responses={204: None})
@api_view(["POST"])
@permission_classes([IsAuthenticated])
def change_own_password(request):
    """Choose a new password (required after an administrator created the account or reset
    its password). The session stays signed in."""
    from django.contrib.auth import update_session_auth_hash

    data = PasswordChangeSerializer(data=request.data)
    data.is_valid(raise_exception=True)
    user = do_change_own_password(request.user, current=data.validated_data["current_password"],
                                  new=data.validated_data["new_password"])
    update_session_auth_hash(request._request, user)
    return Response(status=status.HTTP_204_NO_CONTENT)


class UserViewSet(viewsets.ReadOnlyModelViewSet):
    """Users of the site (site administrators): list, create, roles, disable or enable,
    password reset. Every change is audited; separation of duties applies (nobody changes
    their own roles or account, conflicting roles are refused)."""

    permission_classes = [IsSiteAdmin]
    serializer_class = UserSerializer
    queryset = User.objects.order_by("username").prefetch_related("groups")

    def get_queryset(self):
        return super().get_queryset().filter(site_id=self.request.user.site_id)

    @extend_schema(request=RolesSerializer, responses={200: UserSerializer})
    @action(detail=True, methods=["put"], url_path="roles")
    def set_roles(self, request, pk=None):
        """Replace the user's roles."""
        user = self.get_object()
        data = RolesSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        do_set_roles(request.user, user, data.validated_data["roles"])
        user = User.objects.get(pk=user.pk)
        return Response(UserSerializer(user).data)

    @extend_schema(request=NewUserSerializer, responses={201: NewUserCreatedSerializer})
    def create(self, request):
        """Create a user of your site with a temporary password, shown once in the answer;
        they choose their own at their first sign-in."""
        data = NewUserSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user, password = do_create_user(request.user, **data.validated_data)
        user = User.objects.get(pk=user.pk)
        body = {**UserSerializer(user).data, "temporary_password": password}
        return Response(body, status=status.HTTP_201_CREATED)

    def _set_active(self, request, active: bool):
        user = self.get_object()
        data = AccountChangeReasonSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        do_set_active(request.user, user, active, reason=data.validated_data["reason"])
        return Response(UserSerializer(User.objects.get(pk=user.pk)).data)

    @extend_schema(request=AccountChangeReasonSerializer, responses={200: UserSerializer})
    @action(detail=True, methods=["post"], url_path="disable")
    def disable(self, request, pk=None):
        """Disable the account: no sign-in, open sessions end; its history stays."""
        return self._set_active(request, False)

    @extend_schema(request=AccountChangeReasonSerializer, responses={200: UserSerializer})
    @action(detail=True, methods=["post"], url_path="enable")
    def enable(self, request, pk=None):
        """Enable a disabled account again."""
        return self._set_active(request, True)

    @extend_schema(request=AccountChangeReasonSerializer,
                   responses={200: TemporaryPasswordSerializer})
    @action(detail=True, methods=["post"], url_path="reset-password")
    def reset_password(self, request, pk=None):
        """A new temporary password (shown once); the user's sessions end and their next
        sign-in must choose a new password."""
        user = self.get_object()
        data = AccountChangeReasonSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        password = do_reset_password(request.user, user, reason=data.validated_data["reason"])
        return Response({"temporary_password": password})
