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
from .serializers import LoginSerializer, RolesSerializer, UserSerializer


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


class UserViewSet(viewsets.ReadOnlyModelViewSet):
    """Users of the site (site administrators)."""

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
