"""Domain errors. Adapters (CLI, web) map these to exit codes / HTTP statuses in one place each."""

from __future__ import annotations


class ObmiError(Exception):
    """Base class for errors a user can act on (never shown with a stack trace)."""


class NotFound(ObmiError):
    """The requested object does not exist."""


class NotVisible(NotFound):
    """Refused, and answered as "not found": the object belongs to another organisation, whose
    objects the caller may not even learn exist."""


class NotAllowed(ObmiError):
    """The caller may not perform this operation."""


class NotAuthenticated(NotAllowed):
    """The caller must sign in (or send a valid token) first: no identity, a wrong password, an
    expired session or a revoked token. `reason` is a stable code pages translate."""

    def __init__(self, message: str, reason: str = "sign_in"):
        super().__init__(message)
        self.reason = reason


class TooManyRequests(ObmiError):
    """The caller asked more often than its rate limit allows; it may ask again after
    `retry_after` (whole) seconds."""

    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after


class Conflict(ObmiError):
    """The operation conflicts with the current state (e.g. wrong schema revision)."""


class ValidationError(ObmiError):
    """Input is invalid. `errors` maps a field (or `line N`) to a list of messages."""

    def __init__(self, message: str, errors: dict[str, list[str]] | None = None):
        super().__init__(message)
        self.errors = errors or {}

    def __str__(self) -> str:
        text = self.args[0]
        if self.errors:
            details = "; ".join(f"{k}: {', '.join(v)}" for k, v in list(self.errors.items())[:20])
            more = len(self.errors) - 20
            text += f" ({details}{f'; … {more} more' if more > 0 else ''})"
        return text


class ImportRejected(ValidationError):
    """An import failed validation; nothing was written. `rejected` lists (line, reason)."""

    def __init__(self, message: str, rejected: list[tuple[int, str]], import_id: int | None = None,
                 unit: str = "line", rows_in: int = 0):
        super().__init__(message)
        self.rejected = rejected
        self.import_id = import_id
        self.unit = unit  # "line" in files, "item" in YAML lists
        self.rows_in = rows_in

    def __str__(self) -> str:
        lines = [self.args[0]]
        for line, reason in self.rejected[:10]:
            lines.append(f"  {self.unit} {line}: {reason}" if line else f"  {reason}")
        if len(self.rejected) > 10:
            lines.append(f"  … and {len(self.rejected) - 10} more rejected rows")
        return "\n".join(lines)
