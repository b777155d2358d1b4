"""The five roles of the product, kept as Django groups so a site can see and audit them."""
from enum import StrEnum


class Role(StrEnum):
    ANNOTATOR = "annotator"
    REVIEWER = "reviewer"
    PROMPT_ADMIN = "prompt_admin"
    AUDITOR = "auditor"
    SITE_ADMIN = "site_admin"

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]


ROLE_LABELS = {
    Role.ANNOTATOR: "Annotator (clinician)",
    Role.REVIEWER: "QA reviewer",
    Role.PROMPT_ADMIN: "Prompt-library administrator",
    Role.AUDITOR: "Auditor",
    Role.SITE_ADMIN: "Site administrator",
}

# Model permissions each role's group carries: (app_label, codename). Apps add their own
# permissions to these lists as they define models; ``seed_roles`` applies them.
ROLE_PERMISSIONS: dict[Role, list[tuple[str, str]]] = {
    Role.ANNOTATOR: [],
    Role.REVIEWER: [],
    Role.PROMPT_ADMIN: [],
    Role.AUDITOR: [],
    Role.SITE_ADMIN: [
        ("accounts", "view_user"),
        ("accounts", "add_user"),
        ("accounts", "change_user"),
    ],
}


def role_conflicts() -> list[tuple[str, str]]:
    """The pairs of roles one person may not hold together (separation of duties), from
    ``settings.ROLE_CONFLICTS``: by default a site administrator is not also an auditor, so
    whoever manages accounts is not who reviews the trail of what was done with them."""
    from django.conf import settings

    return [tuple(str(role) for role in pair) for pair in settings.ROLE_CONFLICTS]


def conflicting_pairs(roles) -> list[tuple[str, str]]:
    """The configured conflicting pairs that ``roles`` (names) holds both halves of."""
    held = {str(role) for role in roles}
    return [(a, b) for a, b in role_conflicts() if a in held and b in held]


def check_role_combination(roles) -> None:
    """Raise ``ValidationError`` on ``roles`` naming the first incompatible pair."""
    from django.core.exceptions import ValidationError

    pairs = conflicting_pairs(roles)
    if pairs:
        text = "; ".join(f"{a} and {b}" for a, b in pairs)
        raise ValidationError({"roles": (
            f"These roles cannot be held by one person (separation of duties): {text}."
        )})


def _guard_group_change(sender, instance, action, reverse, model, pk_set, **kwargs):
    """Every path that adds roles (the API, a command, a shell, an admin page) meets the same
    rule: ``User.groups`` changes that would leave someone holding a conflicting pair are
    refused before they are written. Bound to ``m2m_changed`` in ``AccountsConfig.ready``."""
    if action != "pre_add" or not pk_set:
        return
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    if not reverse:  # user.groups.add(...) / set(...)
        current = set(instance.groups.values_list("name", flat=True))
        added = set(Group.objects.filter(pk__in=pk_set).values_list("name", flat=True))
        check_role_combination(current | added)
        instance.__dict__.pop("_role_names", None)
        return
    # group.user_set.add(...): each user gains this one group.
    for user in get_user_model().objects.filter(pk__in=pk_set):
        check_role_combination(set(user.groups.values_list("name", flat=True)) | {instance.name})
