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


def api_view(view):
    """A view of the API: the login middleware skips it (``login_required = False``; ninja checks auth
    itself), and a method its path does not have is answered in the API's JSON error shape, with the
    ``Allow`` header, where ninja answers in plain text."""

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        plain = not response.get("Content-Type", "").startswith("application/json")
        if response.status_code == 405 and plain:
            allowed = response.get("Allow", "")
            message = f"{request.method} is not allowed here; allowed: {allowed}."
            response = JsonResponse(errors.error_body("method_not_allowed", message), status=405)
            response["Allow"] = allowed
        return response

    wrapped.login_required = False
    return wrapped


@api_view
@csrf_exempt  # it changes nothing and answers the same to everyone
def no_such_endpoint(request, rest: str = ""):
    """Any other path under /api/, its root included: the API's JSON 404, not the site's HTML page."""
    message = "No such API endpoint; the endpoints are listed at /api/docs."
    return JsonResponse(errors.error_body("not_found", message), status=404)


def urlpatterns() -> list[URLPattern]:
    patterns, _, _ = api.urls
    for pattern in patterns:
        # ninja's home (an HTML 404; the schema reverses its name for the base path): the JSON 404 instead
        pattern.callback = no_such_endpoint if pattern.name == "api-root" else api_view(pattern.callback)
    return [*patterns, re_path(r"^(?P<rest>.*)$", no_such_endpoint)]
