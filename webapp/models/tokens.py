"""API tokens for scripts: only a SHA-256 of the token is stored; the token itself is shown once."""

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone

TOKEN_PREFIX = "off_"
LAST_USED_RESOLUTION = timedelta(minutes=1)  # write last_used_at at most this often per token


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiToken(models.Model):
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, blank=True)
    key_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=12)  # the first characters, to tell tokens apart in lists
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.owner})"

    @classmethod
    def issue(cls, owner, name: str = "") -> tuple["ApiToken", str]:
        """A new token row and the raw token (shown to the user once, never stored)."""
        raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
        token = cls.objects.create(owner=owner, name=name[:100], key_hash=hash_token(raw), prefix=raw[:12])
        return token, raw

    @classmethod
    def user_for(cls, raw: str):
        """The active user a raw token belongs to, or None; records when the token was last used."""
        if not raw or not raw.startswith(TOKEN_PREFIX) or len(raw) > 200:
            return None
        token = cls.objects.select_related("owner").filter(key_hash=hash_token(raw)).first()
        if token is None or not token.owner.is_active:
            return None
        now = timezone.now()
        if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
            cls.objects.filter(pk=token.pk).update(last_used_at=now)
        return token.owner
