"""Serve Offside: Daphne (HTTP + WebSocket) and one Celery worker for both queues; Ctrl-C stops all."""

import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from webapp.services import ServiceUnavailable, create_first_admin, ensure_redis


class Command(BaseCommand):
    help = "Run the Offside dashboard (Daphne) and a Celery worker (queues cpu and gpu, with the sweep)."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("OFFSIDE_HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("OFFSIDE_PORT", "8000")))
        parser.add_argument("--concurrency", type=int, default=int(os.environ.get("WORKER_CONCURRENCY", "2")))

    def handle(self, *args, host, port, concurrency, **options):
        try:
            self.stdout.write(ensure_redis(settings.REDIS_URL))
        except ServiceUnavailable as exc:
            raise CommandError(str(exc)) from exc
        self.announce_first_admin()
        processes = [self.start_worker(concurrency), self.start_daphne(host, port)]
        self.stdout.write(self.style.SUCCESS(f"Offside is serving on http://{host}:{port}/ (Ctrl-C stops)"))
        self.supervise(processes)

    def announce_first_admin(self) -> None:
        login = create_first_admin()
        if login:
            username, password = login
            self.stdout.write(
                self.style.WARNING(f"Created staff user '{username}' with password: {password}")
            )
            self.stdout.write("This password is shown only once: note it now.")

    def start_daphne(self, host: str, port: int) -> subprocess.Popen:
        command = [sys.executable, "-m", "daphne", "-b", host, "-p", str(port), "webapp.asgi:application"]
        return subprocess.Popen(command)

    def start_worker(self, concurrency: int) -> subprocess.Popen:
        settings.STATE_DIR.mkdir(parents=True, exist_ok=True)
        command = [
            sys.executable, "-m", "celery", "-A", "workers", "worker", "-Q", "cpu,gpu",
            "--concurrency", str(concurrency), "--loglevel", "INFO", "-B",
            "--schedule", str(settings.STATE_DIR / "celerybeat-schedule"),
        ]  # fmt: skip
        return subprocess.Popen(command)

    def supervise(self, processes: list[subprocess.Popen]) -> None:
        """Wait until Ctrl-C or one child exits, then stop every child."""
        stopping = False

        def request_stop(signum, frame):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, request_stop)
        signal.signal(signal.SIGTERM, request_stop)
        while not stopping and all(p.poll() is None for p in processes):
            time.sleep(0.5)
        self.stdout.write("Stopping Offside…")
        for process in processes:
            if process.poll() is None:
                process.terminate()
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
