import secrets

from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction

from accounts.models import Site, User
from accounts.roles import Role
from audit.trail import record_event

from .seed_roles import seed_roles

DEMO_USERS = [
    ("annotator", "Dr. Ana Annotator", [Role.ANNOTATOR]),
    ("annotator2", "Dr. Ben Second-Reader", [Role.ANNOTATOR]),
    ("reviewer", "Dr. Rita Reviewer", [Role.REVIEWER]),
    ("reviewer2", "Dr. Sam Adjudicator", [Role.REVIEWER]),
    ("promptadmin", "Dr. Paula Prompt-Author", [Role.PROMPT_ADMIN]),
    ("promptadmin2", "Dr. Pete Prompt-Approver", [Role.PROMPT_ADMIN]),
    ("auditor", "Alex Auditor", [Role.AUDITOR]),
    ("siteadmin", "Sandra Site-Admin", [Role.SITE_ADMIN]),
]


def generated_password() -> str:
    return f"{secrets.token_urlsafe(12)}-{secrets.randbelow(90) + 10}"


class Command(BaseCommand):
    help = (
        "Create the demo site and one demo user per role with generated passwords, printed "
        "once. Existing users are left alone (reset with `manage.py changepassword NAME`)."
    )

    def handle(self, *args, **options):
        seed_roles()
        with transaction.atomic():
            site, _ = Site.objects.get_or_create(code="demo", defaults={"name": "Demo Hospital"})
            created = []
            for username, printed_name, roles in DEMO_USERS:
                if User.objects.filter(username=username).exists():
                    continue
                password = generated_password()
                user = User.objects.create_user(
                    username=username, password=password, printed_name=printed_name, site=site
                )
                user.groups.set(Group.objects.filter(name__in=[r.value for r in roles]))
                record_event(
                    action="user.set_roles",
                    target=user,
                    old={"roles": []},
                    new={"roles": sorted(r.value for r in roles)},
                    reason="demo user seeded",
                )
                created.append((username, password, ", ".join(r.value for r in roles)))
        if created:
            self.stdout.write("Demo users (passwords are shown only this once):")
            for username, password, roles in created:
                self.stdout.write(f"  {username:<14} {password:<24} {roles}")
        else:
            self.stdout.write(
                "Demo users already exist; reset a password with "
                "`.venv/bin/python manage.py changepassword NAME`."
            )
