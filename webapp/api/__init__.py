"""The JSON API under ``/api/``: OpenAPI schema at ``/api/openapi.json``, interactive docs at ``/api/docs``.

Scripts authenticate with ``Authorization: Bearer <token>`` (``manage.py create_api_token USER``); the browser
uses its session and a CSRF token. The API answers 401 JSON, never a redirect to the login page, so its views
are exempt from ``LoginRequiredMiddleware`` and do their own authentication.
"""

import functools

from django.urls import URLPattern
from ninja import NinjaAPI

from webapp.api import errors
from webapp.api.auth import AUTH

api = NinjaAPI(
    title="Offside API",
    version="1",
    description="Upload videos, define categories, train models, score videos and fetch segments.",
    auth=AUTH,
    urls_namespace="api",
)
errors.install(api)


def _register_routers() -> None:
    from webapp.api.library import router as library
    from webapp.api.work import router as work

    api.add_router("/", library)
    api.add_router("/", work)


_register_routers()


def without_login_redirect(view):
    """A wrapper the login middleware skips (``login_required = False``); ninja checks auth itself."""

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        return view(request, *args, **kwargs)

    wrapped.login_required = False
    return wrapped


def urlpatterns() -> list[URLPattern]:
    patterns, _, _ = api.urls
    for pattern in patterns:
        pattern.callback = without_login_redirect(pattern.callback)
    return patterns
