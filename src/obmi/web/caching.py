"""HTTP caching of published JSON: an ETag from the data version (which every write advances),
the audience and the request; a small in-process cache of rendered bodies for the anonymous
public; Cache-Control for proxies. Only responses that already went through the query layer are
cached, and a signed-in user's responses are never shared: nothing one audience may see can
reach another through a cache.

The body cache is bounded in bytes (OBMI_RESPONSE_CACHE_MB), not in entries: one full GeoJSON
weighs as much as a thousand small answers. It is keyed on the parameters the answer depends on
— the query parameters the route declares, normalised — so a request with made-up parameters
(`?junk=1`, a cache-buster) reuses the entry of the request without them instead of adding one.
Only answers that were built are stored: an error never reaches the cache."""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from threading import Lock
from typing import Any, Callable, Iterable, Mapping

import orjson
from fastapi import Request, Response
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from obmi import operations as ops
from obmi.context import Context

MB = 2**20
DEFAULT_MAX_BYTES = 64 * MB
# What an entry costs besides its body and key strings (the key tuple, the dict's node): an
# estimate, so that many tiny entries cannot exceed the bound unseen.
ENTRY_OVERHEAD = 256
# An answer larger than this share of the cache is served but not kept: one huge download must
# not push out everything else.
LARGEST_SHARE = 4

Key = tuple[str, ...]


class BodyCache:
    """Rendered bodies, least recently used out first, within `max_bytes` in all (0: none kept)."""

    def __init__(self, max_bytes: int = DEFAULT_MAX_BYTES):
        self.max_bytes = max_bytes
        self.entries: OrderedDict[Key, bytes] = OrderedDict()
        self.bytes = 0  # what the entries cost, by entry_cost
        self.lock = Lock()

    def __len__(self) -> int:
        return len(self.entries)

    def get(self, key: Key) -> bytes | None:
        with self.lock:
            body = self.entries.get(key)
            if body is not None:
                self.entries.move_to_end(key)
            return body

    def put(self, key: Key, body: bytes) -> bool:
        """Keep `body` unless it is too large for the bound; returns whether it was kept."""
        cost = entry_cost(key, body)
        if cost > self.max_bytes // LARGEST_SHARE:
            return False
        with self.lock:
            old = self.entries.pop(key, None)
            if old is not None:
                self.bytes -= entry_cost(key, old)
            self.entries[key] = body
            self.bytes += cost
            while self.bytes > self.max_bytes:
                evicted_key, evicted = self.entries.popitem(last=False)
                self.bytes -= entry_cost(evicted_key, evicted)
        return True

    def clear(self) -> None:
        with self.lock:
            self.entries.clear()
            self.bytes = 0


def entry_cost(key: Key, body: bytes) -> int:
    return len(body) + sum(map(len, key)) + ENTRY_OVERHEAD


def encode_json(data: Any) -> bytes:
    # orjson: a 3,000-area map is ~600 kB of JSON; the standard library takes 4× as long.
    return orjson.dumps(data, default=str, option=orjson.OPT_NON_STR_KEYS)


# --- the key: what an answer depends on ----------------------------------------------------------

_DECLARED: dict[int, frozenset[str]] = {}  # id(route) → its query parameters (routes live as long as the app)


def declared_parameters(route: APIRoute) -> frozenset[str]:
    """The query parameters a route declares, in its signature and its dependencies."""
    found = _DECLARED.get(id(route))
    if found is None:
        found = _DECLARED[id(route)] = frozenset(_query_names(route.dependant))
    return found


def _query_names(dependant: Dependant) -> Iterable[str]:
    for field in dependant.query_params:
        yield field.alias
    for dependency in dependant.dependencies:
        yield from _query_names(dependency)


def normalised_query(request: Request, params: Mapping[str, object] | None = None) -> str:
    """The query the answer depends on, in one spelling: the route's declared parameters (repeated
    ones in their order) sorted by name, then what the route parsed itself (`params`). Parameters
    the route does not know are left out: FastAPI ignores them, so the answer does not vary."""
    route = request.scope.get("route")
    known = declared_parameters(route) if isinstance(route, APIRoute) else frozenset()
    pairs = sorted((k, v) for k, v in request.query_params.multi_items() if k in known)
    parsed = sorted(f"{k}={v!r}" for k, v in (params or {}).items())
    return "&".join([*(f"{k}={v}" for k, v in pairs), *parsed])


def audience(ctx: Context) -> str:
    """Whose view a response is: the public's (shared) or one user's or token's (private, with
    the roles and groups it was built for, so that a changed role never gets a 304)."""
    actor = ctx.actor
    if actor.is_anonymous:
        return "public"
    return (f"{actor.via}:{actor.user_id}:{actor.token_id or ''}:{actor.scope or ''}:{actor.organisation or ''}:"
            f"{','.join(sorted(actor.roles))}:{','.join(sorted(actor.groups))}")


def cache_key(request: Request, ctx: Context, *, vary: str = "", params: Mapping[str, object] | None = None) -> Key:
    # The base URL: answers that link to themselves (OData, the catalogue) embed the host asked for.
    return (ops.data_version(ctx).tag, audience(ctx), str(request.base_url), request.url.path,
            normalised_query(request, params), vary)


def etag_of(key: Key) -> str:
    return '"' + hashlib.sha256("\x1f".join(key).encode()).hexdigest()[:20] + '"'


def cached(request: Request, ctx: Context, build: Callable[[], Any], *,
           media_type: str = "application/json", encode: Callable[[Any], bytes] | None = None,
           vary: str = "", params: Mapping[str, object] | None = None) -> Response:
    """`vary`: what else the body depends on besides the URL and the audience (a request header).
    `params`: for routes that read the query string themselves (OData, Swing), what they parsed
    from it — the declared parameters are found in the route's signature."""
    key = cache_key(request, ctx, vary=vary, params=params)
    etag = etag_of(key)
    shared = key[1] == "public"
    headers = {"ETag": etag, "Cache-Control": "public, max-age=60" if shared else "private, no-cache",
               "Vary": "Accept-Language, Cookie, Authorization"}
    if etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    cache: BodyCache = request.app.state.body_cache
    body = cache.get(key) if shared else None
    if body is None:
        # An error raised here leaves the cache untouched: only built answers are stored.
        body = (encode or encode_json)(build())
        if shared:
            cache.put(key, body)
    return Response(body, media_type=media_type, headers=headers)
