"""The one declared list of OBMi settings. Each is read from an `OBMI_*` environment variable.

Settings are built by `load_settings()` (never at import time) so tests and the app factory can
pass their own environment.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from obmi.errors import ValidationError


def _log_level(raw: str) -> str:
    value = raw.strip().upper()
    if value not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
        raise ValueError("expected DEBUG, INFO, WARNING or ERROR")
    return value


def _environment(raw: str) -> str:
    value = raw.strip().lower()
    if value not in {"development", "test", "production"}:
        raise ValueError("expected development, test or production")
    return value


def _colour(raw: str) -> str:
    value = raw.strip()
    if not re.fullmatch(r"#[0-9a-fA-F]{6}", value):
        raise ValueError("expected a colour like #00539b")
    return value.lower()


def _language(raw: str) -> str:
    value = raw.strip().lower()
    if value not in {"nl", "en"}:
        raise ValueError("expected nl or en")
    return value


@dataclass(frozen=True)
class Setting:
    name: str  # attribute name; the environment variable is OBMI_<NAME upper>
    type: Callable[[str], Any]
    default: Any
    help: str
    secret: bool = False

    @property
    def env(self) -> str:
        return "OBMI_" + self.name.upper()


DEV_SECRET = "development-only-secret-change-me"

DECLARED: tuple[Setting, ...] = (
    Setting("database_url", str, "sqlite:///obmi.db",
            "SQLAlchemy URL of the database. SQLite file (default, in the working directory) "
            "or postgresql+psycopg://user@host:5432/db for production."),
    Setting("environment", _environment, "development",
            "development, test or production. Production refuses default secrets."),
    Setting("secret_key", str, DEV_SECRET, "Key for signing sessions and tokens.", secret=True),
    Setting("log_level", _log_level, "INFO", "Log level: DEBUG, INFO, WARNING or ERROR."),
    Setting("log_format", str, "text", "Log output: `text` (key=value) or `json` (one object per line)."),
    Setting("host", str, "127.0.0.1", "Address the web server binds to."),
    Setting("port", int, 8000, "Port the web server listens on."),
    Setting("site_name", str, "OBMi", "Name of the instance shown in the web interface."),
    Setting("primary_color", _colour, "#00539b",
            "Main colour of the web interface (a city's house style), as #rrggbb."),
    Setting("logo", str, "", "Path to the city's logo (PNG or SVG) shown in the header; empty: none."),
    Setting("content_dir", str, "",
            "Folder with a city's own dashboards/*.yaml and stories/*.md (added to the built-in ones)."),
    Setting("default_language", _language, "nl", "Language of the web interface by default: nl or en."),
    Setting("default_threshold", int, 5,
            "Privacy threshold for counts when an indicator sets none: smaller counts are suppressed."),
    Setting("user", str, "", "Name recorded as the user of imports run from the command line "
            "(defaults to the operating-system user)."),
)


@dataclass(frozen=True)
class Settings:
    values: Mapping[str, Any] = field(default_factory=dict)

    def __getattr__(self, name: str) -> Any:
        try:
            return self.values[name]
        except KeyError:
            raise AttributeError(name) from None


def load_settings(environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
    """Read every declared setting; a bad value raises ValidationError naming the variable."""
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for setting in DECLARED:
        if setting.name in overrides:
            values[setting.name] = overrides[setting.name]
            continue
        raw = env.get(setting.env)
        if raw is None or raw == "":
            values[setting.name] = setting.default
            continue
        try:
            values[setting.name] = setting.type(raw)
        except ValueError as exc:
            errors[setting.env] = [f"bad value {raw!r}: {exc}"]
    unknown = sorted(k for k in env if k.startswith("OBMI_") and k not in {s.env for s in DECLARED}
                     and not k.startswith("OBMI_TEST_"))
    for key in unknown:
        errors[key] = ["unknown setting (see `obmi settings`)"]
    if not errors and values["environment"] == "production" and values["secret_key"] == DEV_SECRET:
        errors["OBMI_SECRET_KEY"] = ["the default secret may not be used in production"]
    if errors:
        raise ValidationError("invalid settings", errors)
    return Settings(values)
