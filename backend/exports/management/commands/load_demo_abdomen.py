"""``manage.py load_demo_abdomen [--site demo] [--user NAME]``: TotalSegmentator's example
abdominal CT as a study of the site, with its reference masks (see :mod:`exports.demo`)."""
from django.core.management.base import BaseCommand, CommandError

from accounts.models import Site, User
from accounts.roles import Role
from exports.demo import DemoDataError, available, load_abdomen_demo
from model.imaging.reference_data import reference_dir


class Command(BaseCommand):
    help = "Import the demo abdominal CT and its reference masks (from var/reference_data)."

    def add_arguments(self, parser):
        parser.add_argument("--site", default="demo", help="site code (default: demo)")
        parser.add_argument("--user", help="who imports (default: the site's first site admin)")

    def handle(self, *args, site, user, **options):
        found = Site.objects.filter(code=site).first()
        if found is None:
            raise CommandError(f"No site {site!r}; run `manage.py seed_demo` first.")
        actors = User.objects.filter(site=found, is_active=True)
        actor = (actors.filter(username=user) if user
                 else actors.filter(groups__name=Role.SITE_ADMIN.value).order_by("pk")).first()
        if actor is None:
            raise CommandError(f"No active user {user!r} at {site}." if user else
                               f"{site} has no site admin to import the demo as; give --user.")
        if not available():
            self.stdout.write(f"abdominal CT: not available ({reference_dir()} is missing; "
                              "scripts/bootstrap.sh fetches it)")
            return
        try:
            report = load_abdomen_demo(found, actor)
        except DemoDataError as error:
            raise CommandError(str(error)) from None
        self.stdout.write("abdominal CT: " + ("already loaded" if report is None
                                              else report.summary()))
