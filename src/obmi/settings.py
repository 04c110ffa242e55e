"""The one declared list of OBMi settings, as a pydantic-settings model: each field is read from
an `OBMI_<NAME>` environment variable, with its type, default and help text in one place.

Settings are built by `load_settings()` (never at import time) so tests and the app factory can
pass their own environment. `obmi settings` and docs/admin-guide.md list every field.
"""

from __future__ import annotations

import ipaddress
import logging
import math
import os
import re
from collections import Counter
from contextvars import ContextVar
from typing import Any, Literal, Mapping
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator
from pydantic import ValidationError as PydanticValidationError
from pydantic_settings import BaseSettings, EnvSettingsSource, PydanticBaseSettingsSource, SettingsConfigDict
from pydantic_settings.sources.utils import parse_env_vars

from obmi.errors import ValidationError

PREFIX = "OBMI_"
DEV_SECRET = "development-only-secret-change-me"
MIN_SECRET_LENGTH = 32  # bytes
MIN_SECRET_BITS = 128  # estimated randomness of a production secret
MIN_THRESHOLD = 1  # lowest OBMI_DEFAULT_THRESHOLD without OBMI_ALLOW_LOW_THRESHOLD
_ENVIRON: ContextVar[Mapping[str, str] | None] = ContextVar("obmi_settings_environ", default=None)
log = logging.getLogger("obmi.settings")


class _MappingEnvSource(EnvSettingsSource):
    """The environment source of pydantic-settings, reading a given mapping instead of os.environ
    (so that `load_settings({...})` in tests never depends on the test runner's environment)."""

    def _load_env_vars(self) -> Mapping[str, str | None]:
        environ = _ENVIRON.get()
        # Only OBMI_* in capitals: `obmi_port` is some other program's variable, not ours.
        ours = {k: v for k, v in (os.environ if environ is None else environ).items()
                if k.startswith(PREFIX) and k == k.upper()}
        return parse_env_vars(ours, self.case_sensitive, self.env_ignore_empty, self.env_parse_none_str)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=PREFIX, case_sensitive=False, env_ignore_empty=True,
                                      frozen=True, extra="forbid")

    # --- storage and process -----------------------------------------------------------------
    database_url: str = Field("sqlite:///obmi.db", description=(
        "SQLAlchemy URL of the database. SQLite file (default, in the working directory) "
        "or postgresql+psycopg://user@host:5432/db for production."))
    environment: Literal["development", "test", "production"] = Field("development", description=(
        "development, test or production. Outside development the default secret key is refused."))
    secret_key: SecretStr = Field(SecretStr(DEV_SECRET), description=(
        "Key that signs session cookies, CSRF tokens and one-time links. Outside development: at "
        f"least {MIN_SECRET_LENGTH} bytes and never the default; in production also random (at least "
        f"{MIN_SECRET_BITS} bits estimated: `openssl rand -hex 32` gives about 240)."))
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "INFO", description="Log level: DEBUG, INFO, WARNING or ERROR.")
    log_format: Literal["text", "json"] = Field(
        "text", description="Log output: `text` (key=value) or `json` (one object per line).")
    host: str = Field("127.0.0.1", description="Address the web server binds to.")
    port: int = Field(8000, ge=1, le=65535, description="Port the web server listens on.")
    base_url: str = Field("", description=(
        "Public address of the site (https://cijfers.stad.be), used in links sent by mail; "
        "empty: http://HOST:PORT."))
    user: str = Field("", description=(
        "The OBMi user the command line acts as (like `--as NAME`). Needed once the database has "
        "users; before that, the command line may only bootstrap (create the first administrator)."))

    upload_max_mb: int = Field(200, ge=1, le=4096, description=(
        "Largest file accepted by the upload page and the import API (MB)."))
    attachment_max_mb: int = Field(10, ge=1, le=100, description=(
        "Largest attachment of a status update (MB); attachments are kept in the database."))
    response_cache_mb: int = Field(64, ge=0, le=4096, description=(
        "Memory each server process may keep rendered public answers in (MB; JSON, GeoJSON, "
        "downloads), least recently used out first; an answer over a quarter of it is not kept. "
        "0: no cache."))

    # --- the public site -----------------------------------------------------------------------
    site_name: str = Field("OBMi", description="Name of the instance shown in the web interface.")
    primary_color: str = Field("#00539b", description=(
        "Main colour of the web interface (a city's house style), as #rrggbb."))
    logo: str = Field("", description="Path to the city's logo (PNG or SVG) shown in the header; empty: none.")
    content_dir: str = Field("", description=(
        "Folder with a city's own dashboards/*.yaml, stories/*.md and area reports reports/*.yaml "
        "(added to the built-in ones; one with the same name replaces the built-in one)."))
    default_language: Literal["nl", "en"] = Field(
        "nl", description="Language of the web interface by default: nl or en.")
    home_region: str = Field("2000", description=(
        "Region(s) an indicator page shows by default (NIS code; several separated by commas): 2000 the "
        "Flemish Region, 4000 the Brussels-Capital Region. Ranking, classes, table, map and reference "
        "value use only their areas; a reader chooses others with `?region=`."))
    default_threshold: int = Field(5, description=(
        "Privacy threshold for counts when an indicator sets none: smaller counts are suppressed. "
        "Applied when data is written; after a change run `obmi derive`. At least 1 (0 or less would "
        "publish every small count) unless OBMI_ALLOW_LOW_THRESHOLD is set."))
    allow_low_threshold: bool = Field(False, description=(
        "Allow an OBMI_DEFAULT_THRESHOLD below 1, which publishes small counts of people unprotected: "
        "only for an installation without data about people. Logged as a warning at every start."))

    # --- an optional base map under the maps (off: no request leaves the site) ------------------
    basemap_url: str = Field("", description=(
        "Tile address of a base map under every map (a city's own, or the Flemish GRB): an XYZ template "
        "with {z}, {x} and {y} (optionally {s} as the first part of the host name), or a WMTS GetTile "
        "template (KVP or REST) with {TileMatrix}, {TileRow} and {TileCol} in a Web Mercator "
        "(EPSG:3857, GoogleMapsCompatible) tile matrix set, such as GoogleMapsVL. Empty: no base map, "
        "and no map asks anything of another site."))
    basemap_attribution: str = Field("", description=(
        "Credit of the base map shown on every map (plain text; required with OBMI_BASEMAP_URL), e.g. "
        "`Basiskaart © Digitaal Vlaanderen (GRB)`."))
    basemap_opacity: float = Field(1.0, ge=0.1, le=1.0, description=(
        "Opacity of the base map, 0.1 to 1 (lower to let a busy map recede behind the figures)."))

    # --- open data: the DCAT-AP catalogue (/catalog.ttl) ---------------------------------------
    catalog_publisher: str = Field("", description=(
        "Name of the organisation that publishes the open-data catalogue (DCAT-AP publisher and contact "
        "point); empty: the host organisation's name, else OBMI_SITE_NAME."))
    catalog_publisher_uri: str = Field("", description=(
        "IRI of the publisher, preferably from the Flemish organisation register "
        "(https://data.vlaanderen.be/id/organisatie/OVO…); empty: an IRI under OBMI_BASE_URL."))
    catalog_contact_email: str = Field("opendata@localhost", description=(
        "E-mail address of the catalogue's contact point (published as mailto:). Set it in production."))
    catalog_licence: str = Field("https://data.vlaanderen.be/id/licentie/modellicentie-gratis-hergebruik/v1.0",
                                 description=(
        "IRI of the licence of the published data, for indicators whose `licence` is not an IRI itself "
        "(default: Modellicentie Gratis Hergebruik v1.0)."))
    catalog_keywords: str = Field("", description=(
        "Keywords added to every dataset of the catalogue, separated by commas (e.g. `Vlaamse open data`, "
        "which the Flemish open-data portal looks for when it harvests)."))

    # --- the OData service (/odata/) ------------------------------------------------------------
    odata_page_size: int = Field(5000, ge=100, le=100_000, description=(
        "Rows per page of an OData answer; a longer answer ends with @odata.nextLink (server-driven paging)."))
    open_data_rate_per_minute: int = Field(600, ge=0, description=(
        "Requests per minute allowed per API token (or per network address without one) on the open-data "
        "services: OData, the DCAT catalogue, JSON-stat, Data Package and SDMX; more answer 429 with "
        "Retry-After. Each server process counts on its own. 0: no limit."))
    open_data_rate_burst: int = Field(120, ge=1, description=(
        "Requests one token (or address) may make at once on the open-data services before "
        "OBMI_OPEN_DATA_RATE_PER_MINUTE applies."))

    # --- sign-in and sessions ------------------------------------------------------------------
    session_idle_minutes: int = Field(60, ge=1, description=(
        "A session ends after this many minutes without a request."))
    session_max_hours: int = Field(12, ge=1, description=(
        "A session ends this many hours after sign-in, however active."))
    cookie_secure: Literal["auto", "always", "never"] = Field("auto", description=(
        "`Secure` flag on cookies: auto (when the request came over HTTPS, and always in "
        "production), always, or never (plain-HTTP development only)."))
    trusted_proxies: str = Field("", description=(
        "Addresses or networks of the reverse proxies in front of OBMi (e.g. `127.0.0.1` or "
        "`10.0.0.0/8,::1`), separated by commas: only from them are `X-Forwarded-Proto` (HTTPS, hence "
        "Secure cookies and HSTS) and `X-Forwarded-For` (the client's address for sign-in lockouts and "
        "rate limits) believed. Empty: no proxy is trusted."))
    embed_hosts: str = Field("", description=(
        "Sites that may show OBMi's pages in a frame (stories embedded in a city's website), as origins "
        "separated by commas, e.g. `https://www.gent.be,https://*.stad.gent`; the Content-Security-Policy's "
        "frame-ancestors. Empty: only OBMi itself."))
    login_max_failures_account: int = Field(5, ge=1, description=(
        "Failed sign-ins for one account within the lockout window before it is locked."))
    login_max_failures_address: int = Field(20, ge=1, description=(
        "Failed sign-ins from one network address within the lockout window before it is locked."))
    login_lockout_minutes: int = Field(15, ge=1, description=(
        "Length of the window (and of the lock) for failed sign-ins."))
    password_min_length: int = Field(12, ge=8, le=128, description="Minimum length of a local password.")
    reset_link_hours: int = Field(24, ge=1, le=168, description="How long a password-reset link stays valid.")

    # --- single sign-on (OpenID Connect) --------------------------------------------------------
    oidc_issuer: str = Field("", description=(
        "Issuer URL of the OpenID Connect provider (Entra ID: https://login.microsoftonline.com/"
        "TENANT/v2.0; Keycloak: https://HOST/realms/REALM). Empty: no single sign-on."))
    oidc_client_id: str = Field("", description="Client id registered at the provider.")
    oidc_client_secret: SecretStr = Field(SecretStr(""), description="Client secret registered at the provider.")
    oidc_scopes: str = Field("openid email profile", description="Scopes asked of the provider.")
    oidc_label: str = Field("Single sign-on", description="Text of the sign-in button, e.g. `Stad Gent-account`.")
    oidc_role_claim: str = Field("roles", description=(
        "Claim that carries the user's groups or roles (a list or a space-separated string)."))
    oidc_role_map: str = Field("", description=(
        "Claim values → OBMi roles, as `value=role` pairs separated by commas, e.g. "
        "`obmi-analisten=analyst,obmi-beheer=org_admin`. Values not listed give no role."))
    oidc_default_role: str = Field("reader", description=(
        "Role of a user whose claims map to no role (empty: such users are refused)."))
    oidc_organisation: str = Field("", description=(
        "Organisation (code) that users signing in through the provider belong to; empty: the "
        "host organisation."))

    # --- mail ---------------------------------------------------------------------------------
    mail_from: str = Field("obmi@localhost", description="Sender address of mails (password-reset links).")
    mail_outbox: str = Field("outbox", description=(
        "Folder where mails are written as .eml files when no SMTP host is set (development, tests)."))
    smtp_host: str = Field("", description="SMTP server for outgoing mail; empty: write mails to OBMI_MAIL_OUTBOX.")
    smtp_port: int = Field(587, ge=1, le=65535, description="SMTP port.")
    smtp_user: str = Field("", description="SMTP user name (empty: no authentication).")
    smtp_password: SecretStr = Field(SecretStr(""), description="SMTP password.")
    smtp_starttls: bool = Field(True, description="Use STARTTLS on the SMTP connection.")

    @field_validator("environment", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.strip().upper() if isinstance(value, str) else value

    @field_validator("default_language", "log_format", "cookie_secure", mode="before")
    @classmethod
    def _strip_lower(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("home_region")
    @classmethod
    def _regions(cls, value: str) -> str:
        codes = [c.strip() for c in value.split(",") if c.strip()]
        if not codes or any(not re.fullmatch(r"\d{4}", c) for c in codes):
            raise ValueError("expected region codes like 2000 or 2000,4000")
        return ",".join(dict.fromkeys(codes))

    @field_validator("primary_color")
    @classmethod
    def _colour(cls, value: str) -> str:
        value = value.strip()
        if not re.fullmatch(r"#[0-9a-fA-F]{6}", value):
            raise ValueError("expected a colour like #00539b")
        return value.lower()

    @field_validator("basemap_url")
    @classmethod
    def _tile_template(cls, value: str) -> str:
        value = value.strip()
        if value:
            check_tile_template(value)
        return value

    @field_validator("basemap_attribution")
    @classmethod
    def _strip(cls, value: str) -> str:
        return " ".join(value.split())

    @field_validator("catalog_contact_email")
    @classmethod
    def _email(cls, value: str) -> str:
        value = value.strip().removeprefix("mailto:")
        if not re.fullmatch(r"[^@\s]+@[^@\s]+", value):
            raise ValueError("expected an e-mail address like opendata@stad.be")
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: str) -> str:
        items = [v.strip() for v in value.replace(" ", ",").split(",") if v.strip()]
        for item in items:
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise ValueError(f"{item!r} is not an IP address or network (e.g. 127.0.0.1 or 10.0.0.0/8)") from None
        return ",".join(dict.fromkeys(items))

    @field_validator("embed_hosts")
    @classmethod
    def _origins(cls, value: str) -> str:
        items = [v.strip().rstrip("/").lower() for v in value.replace(" ", ",").split(",") if v.strip()]
        for item in items:
            if not re.fullmatch(r"https?://(\*\.)?[a-z0-9-]+(\.[a-z0-9-]+)*(:[0-9]{1,5})?", item):
                raise ValueError(f"{item!r} is not an origin like https://www.gent.be or https://*.stad.gent "
                                 "(scheme and host, no path)")
        return ",".join(dict.fromkeys(items))

    @field_validator("catalog_publisher_uri", "catalog_licence")
    @classmethod
    def _iri(cls, value: str) -> str:
        value = value.strip()
        if value and not re.fullmatch(r"https?://[^\s<>\"{}|\\^`]+", value):
            raise ValueError("expected an absolute http(s) IRI")
        return value

    @classmethod
    def settings_customise_sources(cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource,
                                   env_settings: PydanticBaseSettingsSource,
                                   dotenv_settings: PydanticBaseSettingsSource,
                                   file_secret_settings: PydanticBaseSettingsSource
                                   ) -> tuple[PydanticBaseSettingsSource, ...]:
        return init_settings, _MappingEnvSource(settings_cls)

    @property
    def public_base_url(self) -> str:
        return (self.base_url or f"http://{self.host}:{self.port}").rstrip("/")

    @property
    def oidc_enabled(self) -> bool:
        return bool(self.oidc_issuer and self.oidc_client_id)

    @property
    def basemap(self) -> dict[str, Any] | None:
        """The base map as the maps' script takes it (body[data-basemap], static/basemap.js): a
        Leaflet tile template, its credit and opacity; None when there is none."""
        if not self.basemap_url:
            return None
        return {"url": leaflet_template(self.basemap_url), "attribution": self.basemap_attribution,
                "opacity": self.basemap_opacity}


def env_name(field: str) -> str:
    return PREFIX + field.upper()


def declared() -> dict[str, Any]:
    """Field name → pydantic FieldInfo, in declaration order (for `obmi settings` and the docs)."""
    return dict(Settings.model_fields)


def is_secret(field: str) -> bool:
    return Settings.model_fields[field].annotation is SecretStr


def load_settings(environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
    """Read every declared setting; bad values raise ValidationError naming each variable."""
    env = os.environ if environ is None else environ
    known = {env_name(name) for name in Settings.model_fields}
    errors: dict[str, list[str]] = {
        key: ["unknown setting (see `obmi settings`)"] for key in sorted(env)
        if key.startswith(PREFIX) and key not in known and not key.startswith("OBMI_TEST_")}
    token = _ENVIRON.set(env)
    try:
        settings = Settings(**overrides)
    except PydanticValidationError as exc:
        for item in exc.errors():
            name = str(item["loc"][0]) if item["loc"] else "settings"
            raw = env.get(env_name(name), overrides.get(name))
            errors.setdefault(env_name(name), []).append(f"bad value {raw!r}: {item['msg']}")
        raise ValidationError("invalid settings", errors) from None
    finally:
        _ENVIRON.reset(token)
    errors.update(_secret_problems(settings))
    errors.update(_threshold_problems(settings))
    errors.update(_basemap_problems(settings))
    if errors:
        raise ValidationError("invalid settings", errors)
    return settings


def _secret_problems(settings: Settings) -> dict[str, list[str]]:
    if settings.environment == "development":
        return {}
    secret = settings.secret_key.get_secret_value()
    if secret == DEV_SECRET:
        return {"OBMI_SECRET_KEY": [f"the default secret may not be used in {settings.environment}"]}
    size = len(secret.encode("utf-8"))
    if size < MIN_SECRET_LENGTH:
        return {"OBMI_SECRET_KEY": [f"must be at least {MIN_SECRET_LENGTH} bytes outside development, this one has "
                                    f"{size} (make one with `openssl rand -hex 32`)"]}
    bits = estimated_entropy_bits(secret)
    if settings.environment == "production" and bits < MIN_SECRET_BITS:
        return {"OBMI_SECRET_KEY": [f"does not look random: about {bits:.0f} bits of randomness, production needs "
                                    f"at least {MIN_SECRET_BITS} (make one with `openssl rand -hex 32`)"]}
    return {}


def estimated_entropy_bits(text: str) -> float:
    """The randomness of `text` as its length times the Shannon entropy of its characters: 0 for
    "xxxx…", ≥ 225 for `openssl rand -hex 32`, ≈ 125 for `openssl rand -hex 16` (16 bytes)."""
    counts = Counter(text)
    return sum(n * math.log2(len(text) / n) for n in counts.values())


def _threshold_problems(settings: Settings) -> dict[str, list[str]]:
    threshold = settings.default_threshold
    if threshold >= MIN_THRESHOLD:
        return {}
    if settings.allow_low_threshold:
        log.warning("OBMI_DEFAULT_THRESHOLD is %s, below %s, allowed by OBMI_ALLOW_LOW_THRESHOLD: counts of indicators "
                    "without a threshold of their own are published however small", threshold, MIN_THRESHOLD)
        return {}
    return {"OBMI_DEFAULT_THRESHOLD": [
        f"must be at least {MIN_THRESHOLD}: {threshold} would publish every small count unprotected (only for data "
        "that is not about people, set OBMI_ALLOW_LOW_THRESHOLD=true as well)"]}
    secret = settings.secret_key.get_secret_value()
    if secret == DEV_SECRET:
        return {"OBMI_SECRET_KEY": [f"the default secret may not be used in {settings.environment}"]}
    if len(secret) < MIN_SECRET_LENGTH:
        return {"OBMI_SECRET_KEY": [f"must be at least {MIN_SECRET_LENGTH} characters outside development "
                                    "(e.g. `openssl rand -hex 32`)"]}
    return {}


# --- the base map's tile address ------------------------------------------------------------
# Leaflet fills {z}, {x}, {y} (and {-y}: TMS rows, {s}: subdomain, {r}: "@2x" on sharp screens).
# A WMTS template names the same three by WMTS's words; in a Web Mercator matrix set whose
# matrices are numbered by zoom level (GoogleMapsCompatible, GoogleMapsVL) they are the same.
LEAFLET_PLACEHOLDERS = frozenset({"z", "x", "y", "-y", "s", "r"})
WMTS_PLACEHOLDERS = {"TileMatrix": "z", "TileRow": "y", "TileCol": "x"}
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


def leaflet_template(url: str) -> str:
    """A tile address with WMTS placeholders written as Leaflet's ({TileMatrix} → {z}, …)."""
    return _PLACEHOLDER.sub(lambda m: "{" + WMTS_PLACEHOLDERS.get(m.group(1), m.group(1)) + "}", url)


def check_tile_template(url: str) -> None:
    """Refuse (ValueError, in words) what Leaflet cannot fill in or what is not an http(s) address."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or re.search(r"\s", url):
        raise ValueError("expected an http(s) address, e.g. https://tiles.example.org/{z}/{x}/{y}.png")
    bare_host = parts.netloc.rsplit("@", 1)[-1].removeprefix("{s}.")
    if not bare_host or "{" in bare_host or "}" in bare_host:
        raise ValueError("only {s} may stand in the host name, as its first part: https://{s}.tiles.example.org/…")
    names = set(_PLACEHOLDER.findall(url))
    unknown = sorted(names - LEAFLET_PLACEHOLDERS - set(WMTS_PLACEHOLDERS))
    if unknown:
        raise ValueError(f"unknown placeholder(s) {', '.join('{' + n + '}' for n in unknown)}: write the value itself "
                         "(e.g. TILEMATRIXSET=GoogleMapsVL); known are {z} {x} {y} {s} or {TileMatrix} {TileRow} "
                         "{TileCol}")
    filled = {WMTS_PLACEHOLDERS.get(n, n) for n in names}
    if not {"z", "x"} <= filled or not filled & {"y", "-y"}:
        raise ValueError("a tile address needs {z}, {x} and {y} (XYZ) or {TileMatrix}, {TileCol} and {TileRow} "
                         "(WMTS)")


def basemap_origin(settings: Settings) -> str | None:
    """Where the base map's tiles come from, as a Content-Security-Policy source for `img-src`
    (`https://tiles.example.org`, `https://*.tile.example.org` with {s}); None without a base map."""
    if not settings.basemap_url:
        return None
    parts = urlsplit(settings.basemap_url)
    host = parts.netloc.rsplit("@", 1)[-1].replace("{s}", "*")
    return f"{parts.scheme}://{host}"


def _basemap_problems(settings: Settings) -> dict[str, list[str]]:
    if settings.basemap_url and not settings.basemap_attribution:
        return {"OBMI_BASEMAP_ATTRIBUTION": ["a base map (OBMI_BASEMAP_URL) must name its source: set its credit, "
                                             "e.g. `Basiskaart © Digitaal Vlaanderen (GRB)`"]}
    return {}
