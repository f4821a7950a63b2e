from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from webapp.services import ServiceUnavailable, ensure_redis


class Command(BaseCommand):
    help = "Make sure a Redis answers at REDIS_URL, starting (or installing, as root) a local one if needed."

    def handle(self, *args, **options):
        try:
            self.stdout.write(ensure_redis(settings.REDIS_URL))
        except ServiceUnavailable as exc:
            raise CommandError(str(exc)) from exc
