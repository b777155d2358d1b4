"""DRF permission classes per role. ``HasRole.of(Role.X, Role.Y)`` builds one for any set."""
from rest_framework.permissions import BasePermission

from .roles import Role


class HasRole(BasePermission):
    roles: tuple[Role, ...] = ()
    message = "Your role does not allow this."

    @classmethod
    def of(cls, *roles: Role) -> type["HasRole"]:
        names = "Or".join(r.value.title().replace("_", "") for r in roles)
        message = "This requires the role " + " or ".join(r.value for r in roles) + "."
        return type(f"Is{names}", (cls,), {"roles": roles, "message": message})

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and user.has_role(*self.roles))


IsAnnotator = HasRole.of(Role.ANNOTATOR)
IsReviewer = HasRole.of(Role.REVIEWER)
IsPromptAdmin = HasRole.of(Role.PROMPT_ADMIN)
IsAuditor = HasRole.of(Role.AUDITOR)
IsSiteAdmin = HasRole.of(Role.SITE_ADMIN)
