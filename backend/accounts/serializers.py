from django.contrib.auth.models import Group
from rest_framework import serializers

from .models import User
from .roles import Role


class UserSerializer(serializers.ModelSerializer):
    roles = serializers.SerializerMethodField()
    printed_name = serializers.CharField(source="get_printed_name", read_only=True)
    site = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = User
        fields = ["id", "username", "printed_name", "email", "site", "roles", "is_active"]

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
