import signal
import socket
import time
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from config.celery import ALL_QUEUES, MODEL_QUEUES
from core import processes
from core.file_modes import close_to_others
from core.supervisor import Child, Supervisor


def port_free(host: str, port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex((host, port)) != 0


class Command(BaseCommand):
    help = (
        "Run the whole application on this machine: a Celery worker process and the web "
        "server. Seeds roles, demo users and the prompt library first. A process that exits is "
        "started again (with back-off); the others keep running. Ctrl-C stops all."
    )

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--no-seed", action="store_true", help="skip demo users and data")

    def handle(self, *args, host, port, no_seed, **options):
        if not port_free(host, port):
            raise CommandError(f"Port {port} is in use; pick another with --port.")
        database = settings.DATABASES["default"]
        sqlite = database["ENGINE"].endswith("sqlite3")
        for root in {Path(settings.VAR_DIR), Path(settings.MEDIA_ROOT)} | (
            {Path(f"{database['NAME']}{end}") for end in ("", "-wal", "-shm")} if sqlite else set()
        ):
            if changed := close_to_others(root):
                self.stderr.write(f"Closed {changed} files or folders under {root} to other "
                                  "users (they held patient data readable by everyone).")
        call_command("seed_roles", stdout=self.stdout)
        if not no_seed:
            call_command("seed_demo", stdout=self.stdout)
            for name in demo_loaders():
                call_command(*name, stdout=self.stdout)
        broker = settings.CELERY_BROKER_URL.split("://")[0]
        host_name = socket.gethostname()
        supervisor = Supervisor(
            [
                # Its HTTP endpoint on loopback, any free port: the viewer's live preview.
                Child("model worker", processes.celery_worker_command(
                    f"models@{host_name}", MODEL_QUEUES), env=processes.MODEL_WORKER_ENV),
                Child("task worker", processes.celery_worker_command(
                    f"tasks@{host_name}", ["default"], pool="threads", concurrency=2)),
                Child("web server", processes.web_command(host, port), env=processes.WEB_ENV),
            ],
            report=lambda line: self.stderr.write(line),
        )
        supervisor.start()
        url = f"http://{host}:{port}/"
        self.stdout.write(
            self.style.SUCCESS(
                f"\nMedSAM-2 Annotation is running at {url}\n"
                f"  database: {settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]}, "
                f"broker: {broker}, worker queues: {', '.join(ALL_QUEUES)}\n"
                "  Sign in with a demo user printed above (passwords are shown only when the "
                "users are first created).\n  Press Ctrl-C to stop."
            )
        )
        stopping = False

        def request_stop(signum, frame):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, request_stop)
        signal.signal(signal.SIGTERM, request_stop)
        try:
            while not stopping:
                supervisor.tick()
                time.sleep(0.5)
        finally:
            self.stdout.write("Stopping the web server and the workers...")
            supervisor.stop()
            self.stdout.write("Stopped.")


def demo_loaders() -> list[tuple[str, ...]]:
    """Management commands that load demo data, for the apps that have them installed."""
    from django.core.management import get_commands

    available = get_commands()
    wanted = [("prompt_library", "load"), ("load_demo_images",), ("load_demo_abdomen",)]
    return [command for command in wanted if command[0] in available]
