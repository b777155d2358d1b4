from django.contrib.auth.models import Group, Permission
from django.core.management.base import BaseCommand

from accounts.roles import ROLE_PERMISSIONS, Role


def seed_roles() -> list[Group]:
    groups = []
    for role in Role:
        group, _ = Group.objects.get_or_create(name=role.value)
        perms = [
            Permission.objects.get(content_type__app_label=app, codename=codename)
            for app, codename in ROLE_PERMISSIONS[role]
        ]
        group.permissions.set(perms)
        groups.append(group)
    return groups


class Command(BaseCommand):
    help = "Create or update the role groups (annotator, reviewer, prompt_admin, ...)."

    def handle(self, *args, **options):
        for group in seed_roles():
            self.stdout.write(f"role {group.name}: {group.permissions.count()} permissions")
