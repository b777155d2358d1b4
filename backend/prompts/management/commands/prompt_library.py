"""``manage.py prompt_library check|load|export|import|robustness``: the library by hand."""
from pathlib import Path

import numpy as np
from django.core.management.base import BaseCommand, CommandError

from prompts.engine_pins import RegistryMissing, engine_problems
from prompts.source import STRUCTURES_DIR, Problem, read_library


class Command(BaseCommand):
    help = (
        "check: validate every library source file (schema, codes, engine pins) and print each "
        "problem with file and field. load: load them as approved versions (idempotent). "
        "export / import: exchange bundles between sites. robustness: score an entry on "
        "reference cases."
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="subcommand", required=True)
        check = sub.add_parser("check", help="validate the source files")
        check.add_argument("--dir", type=Path, default=STRUCTURES_DIR)
        load = sub.add_parser("load", help="load the source files as approved versions")
        load.add_argument("--dir", type=Path, default=STRUCTURES_DIR)
        load.add_argument("--site", help="site code (default: every site)")
        export = sub.add_parser("export", help="write the site's approved versions as a bundle")
        export.add_argument("--user", required=True, help="prompt administrator exporting")
        export.add_argument("--output", "-o", type=Path, required=True)
        export.add_argument("keys", nargs="*", help="entry keys (default: all)")
        imp = sub.add_parser("import", help="verify a bundle and create drafts from it")
        imp.add_argument("--user", required=True, help="prompt administrator importing")
        imp.add_argument("bundle", type=Path)
        imp.add_argument("--dry-run", action="store_true", help="only show what differs")
        robust = sub.add_parser("robustness", help="score an entry's prompt stability")
        robust.add_argument("key")
        robust.add_argument("--site", required=True)
        robust.add_argument("--case", type=Path, action="append", required=True,
                            help=".npz with image (z,y,x), spacing_zyx, slice_index, box "
                                 "[, truth]; repeat for more cases")
        robust.add_argument("--samples", type=int, default=8)
        robust.add_argument("--seed", type=int, default=0)

    def handle(self, *args, **options):
        getattr(self, "handle_" + options["subcommand"])(options)

    def _validated(self, directory: Path) -> dict[str, dict]:
        entries, problems = read_library(directory)
        try:
            for content in entries.values():
                problems += engine_problems(content, f"{content['key']}.yaml")
        except RegistryMissing as exc:
            self.stderr.write(self.style.WARNING(f"Engine pins not checked: {exc}"))
        if problems:
            raise CommandError(_listing(problems))
        return entries

    def handle_check(self, options):
        entries = self._validated(options["dir"])
        self.stdout.write(self.style.SUCCESS(f"{len(entries)} entries valid in {options['dir']}"))

    def handle_load(self, options):
        from accounts.models import Site
        from prompts.actions import do_load_library

        entries = self._validated(options["dir"])
        sites = Site.objects.all()
        if options["site"]:
            sites = sites.filter(code=options["site"])
            if not sites:
                raise CommandError(f"No site with code {options['site']!r}.")
        if not sites:
            self.stdout.write("No site exists yet: nothing loaded (create a site first).")
        for site in sites:
            report = do_load_library(site, entries)
            self.stdout.write(
                f"{site.code}: {len(report.created)} new, {len(report.updated)} updated, "
                f"{len(report.unchanged)} unchanged"
            )
            for note in report.kept_local:
                self.stdout.write(f"  kept the local version of {note}")

    def handle_export(self, options):
        from prompts.actions import do_export_bundle
        from prompts.bundle import dumps

        user = _user(options["user"])
        bundle = do_export_bundle(user, user.site, options["keys"] or None)
        options["output"].write_text(dumps(bundle), encoding="utf-8")
        self.stdout.write(f"Wrote {len(bundle['items'])} entries to {options['output']}")

    def handle_import(self, options):
        from prompts.actions import PromptActionRefused, do_import_bundle, preview_import

        user = _user(options["user"])
        raw = options["bundle"].read_bytes()
        try:
            _header, lines = preview_import(user.site, raw, options["bundle"].name)
            for line in lines:
                fields = ", ".join(c["field"] for c in line.changes[:6])
                self.stdout.write(f"{line.status:<9} {line.key} {line.note or fields}")
            if not options["dry_run"]:
                drafts = do_import_bundle(user, user.site, raw, options["bundle"].name)
                self.stdout.write(f"Created {len(drafts)} drafts awaiting local approval.")
        except PromptActionRefused as exc:
            raise CommandError("\n".join(exc.messages)) from exc

    def handle_robustness(self, options):
        from model.engines.registry import get_engine
        from prompts.actions import do_record_robustness
        from prompts.models import PromptVersion
        from prompts.robustness import Tolerance, robustness_score

        version = PromptVersion.objects.filter(
            entry__site__code=options["site"], entry__key=options["key"], state="approved"
        ).first()
        if version is None:
            raise CommandError(f"No approved version of {options['key']!r} at {options['site']}.")
        content = version.content
        cases = [_case(path) for path in options["case"]]
        engine = get_engine(content["engine"]["name"])
        window = content["image"].get("window")
        stability = robustness_score(
            engine, cases, Tolerance.from_entry(content), samples=options["samples"],
            window=(window["level"], window["width"]) if window else None,
            modality=content["modality"], seed=options["seed"], content=content,
        )
        run = do_record_robustness(None, version, stability, engine=engine.name,
                                   weights_sha256=engine.weights_sha256,
                                   cases=[c.name for c in cases], seed=options["seed"])
        self.stdout.write(str(run))


def _listing(problems: list[Problem]) -> str:
    return f"{len(problems)} problem(s):\n" + "\n".join(f"  {p}" for p in problems)


def _user(username: str):
    from accounts.models import User

    user = User.objects.filter(username=username).first()
    if user is None:
        raise CommandError(f"No user {username!r}.")
    return user


def _case(path: Path):
    from prompts.robustness import ReferenceCase

    with np.load(path) as data:
        truth = data["truth"] if "truth" in data else None
        return ReferenceCase(path.stem, data["image"], tuple(data["spacing_zyx"].tolist()),
                             int(data["slice_index"]), tuple(data["box"].tolist()), truth)
