"""Local passwords: argon2id hashes (argon2-cffi) and the rules a new password must meet."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

# argon2-cffi's defaults (RFC 9106 "low memory" profile: 3 passes, 64 MiB, 4 lanes).
_HASHER = PasswordHasher()
MAX_LENGTH = 256  # argon2 takes any length; a limit keeps a megabyte "password" from costing CPU
# The most common passwords of Dutch- and English-speaking users that pass a length rule.
_COMMON = {"wachtwoord123", "wachtwoord1234", "password1234", "password12345", "123456789012",
           "qwertyuiopas", "azertyuiopqs", "welkom123456", "letmein12345", "administrator",
           "obmi-password", "changeme1234", "zomer2026zomer"}


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """True when `password` matches; False for a mismatch or an account without a password.
    Takes as long for an unknown account as for a known one (no timing oracle on user names)."""
    if not stored_hash:
        _HASHER.hash(password)  # spend the same time as a real check
        return False
    try:
        return _HASHER.verify(stored_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return _HASHER.check_needs_rehash(stored_hash)


def password_problems(password: str, *, user_name: str, min_length: int) -> list[str]:
    """What is wrong with a new password (empty: fine). Rules after NIST SP 800-63B: length
    counts, composition rules do not; refuse the obvious and the user's own name."""
    problems = []
    if len(password) < min_length:
        problems.append(f"at least {min_length} characters")
    if len(password) > MAX_LENGTH:
        problems.append(f"at most {MAX_LENGTH} characters")
    if len(set(password)) < 4:
        problems.append("more than three different characters")
    lowered = password.lower()
    if user_name and len(user_name) >= 3 and user_name.lower() in lowered:
        problems.append("not containing the user name")
    if lowered in _COMMON:
        problems.append("not one of the most common passwords")
    return problems
