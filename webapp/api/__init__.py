"""The JSON API under ``/api/``: OpenAPI schema at ``/api/openapi.json``, interactive docs at ``/api/docs``.

Scripts authenticate with ``Authorization: Bearer <token>`` (``manage.py create_api_token USER``); the browser
uses its session and a CSRF token. The API answers 401 JSON, never a redirect to the login page, so its views
are exempt from ``LoginRequiredMiddleware`` and do their own authentication.
"""

import functools

from django.http import JsonResponse
from django.urls import URLPattern, re_path
from django.views.decorators.csrf import csrf_exempt
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


@without_login_redirect
@csrf_exempt  # it changes nothing and answers the same to everyone
def no_such_endpoint(request, rest: str = ""):
    """Any other path under /api/: the API's JSON 404, not the site's HTML page (nothing to authenticate)."""
    message = "No such API endpoint; the endpoints are listed at /api/docs."
    return JsonResponse(errors.error_body("not_found", message), status=404)


def urlpatterns() -> list[URLPattern]:
    patterns, _, _ = api.urls
    for pattern in patterns:
        pattern.callback = without_login_redirect(pattern.callback)
    return [*patterns, re_path(r"^(?P<rest>.*)$", no_such_endpoint)]
