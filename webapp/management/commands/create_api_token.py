"""Create an API token for a user: ``manage.py create_api_token USERNAME [--name NAME]``."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from webapp.models import ApiToken


class Command(BaseCommand):
    help = "Create an API token for USERNAME and print it (it is shown only once)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="", help="A label to tell tokens apart.")

    def handle(self, *args, username, name, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            known = get_user_model().objects.order_by("username").values_list("username", flat=True)[:20]
            raise CommandError(f"No user called {username!r}; users: {', '.join(known) or 'none yet'}.")
        _, raw = ApiToken.issue(user, name)
        self.stdout.write(raw)
