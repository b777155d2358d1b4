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
