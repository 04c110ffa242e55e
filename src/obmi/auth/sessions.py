"""Browser sessions: the cookie carries a signed random session id; the session row in the store
says who it belongs to and when it started, was last used and ended. Signing (itsdangerous,
keyed by OBMI_SECRET_KEY) refuses forged or altered cookies before any database lookup; the row
makes logout and expiry real (a copied cookie dies with its session)."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta

from itsdangerous import BadSignature, URLSafeSerializer

COOKIE = "obmi_session"
CSRF_COOKIE = "obmi_csrf"  # before sign-in, the CSRF token is bound to this random cookie
TOUCH_EVERY = timedelta(minutes=1)  # last-use time is written at most this often


def _serializer(secret: str, purpose: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret, salt=f"obmi.{purpose}")


def sign_session_id(secret: str, session_id: str) -> str:
    return _serializer(secret, "session").dumps(session_id)


def read_session_cookie(secret: str, cookie: str | None) -> str | None:
    if not cookie or len(cookie) > 512:
        return None
    try:
        value = _serializer(secret, "session").loads(cookie)
    except BadSignature:
        return None
    return value if isinstance(value, str) else None


def csrf_token(secret: str, binding: str) -> str:
    """The token forms must send back, bound to the session (or pre-session cookie)."""
    return hmac.new(secret.encode(), f"csrf:{binding}".encode(), hashlib.sha256).hexdigest()


def csrf_valid(secret: str, binding: str | None, token: str | None) -> bool:
    if not binding or not token:
        return False
    return hmac.compare_digest(csrf_token(secret, binding), token)


@dataclass(frozen=True)
class Expiry:
    idle: timedelta
    absolute: timedelta

    def ended(self, *, started: datetime, last_seen: datetime, now: datetime) -> str | None:
        """Why a session is over at `now` ("idle" or "absolute"), or None while it is valid."""
        if now - started >= self.absolute:
            return "absolute"
        if now - last_seen >= self.idle:
            return "idle"
        return None
