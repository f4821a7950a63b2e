"""Errors as JSON with one stable shape: ``{"error": {"code": "...", "message": "...", "details": ...}}``."""

from django.http import Http404
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

STATUS_CODES = {
    400: "bad_request", 401: "not_authenticated", 403: "forbidden", 404: "not_found",
    405: "method_not_allowed", 409: "conflict", 413: "too_large", 415: "unsupported_media_type",
    422: "invalid", 429: "rate_limited", 507: "insufficient_storage",
}  # fmt: skip


class ApiError(Exception):
    """An error answer. A 422 always carries ``details`` in the schema errors' shape: without its own, one
    entry with the message at ``loc`` (the body as a whole when not given)."""

    def __init__(self, status: int, message: str, code: str | None = None, details=None, loc=("body",)):
        super().__init__(message)
        self.status, self.message = status, message
        self.code = code or STATUS_CODES.get(status, "error")
        if status == 422 and details is None:
            details = [{"loc": list(loc), "msg": message}]
        self.details = details


def error_body(code: str, message: str, details=None) -> dict:
    body = {"code": code, "message": message}
    if details is not None:
        body["details"] = details
    return {"error": body}


def form_error(form, locations: dict[str, tuple[str, ...]] | None = None) -> ApiError:
    """A 422 from a Django form's errors, in the shape of a schema error: a list of ``{"loc", "msg"}`` where
    ``loc`` names the request part and field the client sent (``["body", "name"]``; ``["body"]`` for the
    form as a whole). ``locations`` maps a form field to that place where the names differ (the form's
    ``models`` is the body's ``model_ids``); the message is the first error's."""
    locations = {"__all__": ("body",), **(locations or {})}
    details = [
        {"loc": list(locations.get(field, ("body", field))), "msg": str(m)}
        for field, messages in form.errors.items()
        for m in messages
    ]
    return ApiError(422, details[0]["msg"] if details else "Invalid input.", details=details)


def install(api) -> None:
    """Register handlers so that every error the API returns has the stable shape."""

    def respond(request, status: int, code: str, message: str, details=None):
        return api.create_response(request, error_body(code, message, details), status=status)

    @api.exception_handler(ApiError)
    def api_error(request, exc: ApiError):
        return respond(request, exc.status, exc.code, exc.message, exc.details)

    @api.exception_handler(Http404)
    def not_found(request, exc):
        return respond(request, 404, "not_found", str(exc) or "Not found.")

    @api.exception_handler(AuthenticationError)
    def not_authenticated(request, exc):
        message = "Send 'Authorization: Bearer <token>' or log in (with a CSRF token for unsafe methods)."
        return respond(request, 401, "not_authenticated", message)

    @api.exception_handler(NinjaValidationError)
    def invalid(request, exc: NinjaValidationError):
        details = [{"loc": _location(e.get("loc", ())), "msg": str(e.get("msg", ""))} for e in exc.errors]
        return respond(request, 422, "invalid", "The request does not match the schema.", details)

    @api.exception_handler(HttpError)
    def http_error(request, exc: HttpError):
        return respond(request, exc.status_code, STATUS_CODES.get(exc.status_code, "error"), str(exc))


def _location(loc) -> list:
    """Where in the request an error is, as the client wrote it: ninja names a body field by the view's
    parameter too (["body", "body", "name"]), but every endpoint takes one schema as the whole JSON body, so
    the parameter's name is ours, not the client's (["body", "name"])."""
    loc = list(loc)
    return loc[:1] + loc[2:] if loc[:1] == ["body"] and len(loc) >= 2 else loc
