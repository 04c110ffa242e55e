"""Secrets handed out once and stored only as hashes: API tokens and one-time links.

Tokens carry 256 random bits, so a fast hash (SHA-256) is enough to store them: unlike a
password, there is nothing to guess. The visible prefix lets people tell their tokens apart.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

API_TOKEN_PREFIX = "obmi_"


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def new_api_token() -> str:
    return API_TOKEN_PREFIX + new_secret()


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def display_prefix(token: str) -> str:
    return token[: len(API_TOKEN_PREFIX) + 6]


def looks_like_api_token(text: str) -> bool:
    return text.startswith(API_TOKEN_PREFIX) and 20 < len(text) < 200


def same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())
