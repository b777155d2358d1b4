from django.core.management.base import BaseCommand, CommandError

from accounts.models import Site
from imaging.demo import load_demo_images


class Command(BaseCommand):
    help = "Import the demo images (real CT and MR from installed packages) for a site."

    def add_arguments(self, parser):
        parser.add_argument("--site", default="demo", help="site code (default: demo)")

    def handle(self, *args, site, **options):
        found = Site.objects.filter(code=site).first()
        if found is None:
            raise CommandError(f"No site {site!r}; run `manage.py seed_demo` first.")
        for line in load_demo_images(found):
            self.stdout.write(f"demo images: {line}")
