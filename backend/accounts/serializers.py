from django.contrib.auth.models import Group
from rest_framework import serializers

from .models import User
from .roles import Role


class UserSerializer(serializers.ModelSerializer):
    roles = serializers.SerializerMethodField()
    printed_name = serializers.CharField(source="get_printed_name", read_only=True)
    site = serializers.SlugRelatedField(slug_field="code", read_only=True)
    # Optional, so often empty: a plain string in the schema ("" is no e-mail format).
    email = serializers.CharField(read_only=True)

    class Meta:
        model = User
        fields = ["id", "username", "printed_name", "email", "site", "roles", "is_active",
                  "must_change_password", "last_login"]
        read_only_fields = fields

    def get_roles(self, user) -> list[str]:
        return sorted(user.role_names())


class LoginSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(style={"input_type": "password"}, trim_whitespace=False)


class RolesSerializer(serializers.Serializer):
    roles = serializers.ListField(
        child=serializers.ChoiceField(choices=[r.value for r in Role]), allow_empty=True
    )

    def validate_roles(self, value):
        missing = set(value) - set(Group.objects.values_list("name", flat=True))
        if missing:
            raise serializers.ValidationError(f"Roles not set up: {', '.join(sorted(missing))}")
        return value


class NewUserSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    printed_name = serializers.CharField(max_length=200,
                                         help_text="Full name as shown on signatures.")
    email = serializers.EmailField(required=False, allow_blank=True, default="")
    roles = serializers.ListField(
        child=serializers.ChoiceField(choices=[r.value for r in Role]), allow_empty=True,
        required=False, default=list,
    )
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class NewUserCreatedSerializer(UserSerializer):
    temporary_password = serializers.CharField(
        read_only=True, help_text="Shown once: the user must choose their own at sign-in.")

    class Meta(UserSerializer.Meta):
        fields = [*UserSerializer.Meta.fields, "temporary_password"]
        read_only_fields = fields


class AccountChangeReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(help_text="Why; kept in the audit trail.")


class TemporaryPasswordSerializer(serializers.Serializer):
    temporary_password = serializers.CharField(read_only=True)


class PasswordChangeSerializer(serializers.Serializer):
    current_password = serializers.CharField(trim_whitespace=False)
    new_password = serializers.CharField(trim_whitespace=False)
