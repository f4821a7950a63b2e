"""API authentication: ``Authorization: Bearer <token>`` for scripts, the session (+ CSRF) for the browser."""

from ninja.security import HttpBearer, SessionAuth

from webapp.models import ApiToken


class TokenAuth(HttpBearer):
    def authenticate(self, request, token: str):
        user = ApiToken.user_for(token)
        if user is not None:
            request.user = user
        return user


class BrowserSessionAuth(SessionAuth):
    """The logged-in session; django-ninja checks the CSRF token on unsafe methods."""

    def authenticate(self, request, key):
        user = getattr(request, "user", None)
        return user if user is not None and user.is_authenticated else None


AUTH = [TokenAuth(), BrowserSessionAuth()]
