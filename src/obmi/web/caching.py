"""HTTP caching of published JSON: an ETag from the data version (which every write advances),
the audience and the request; a small in-process cache of rendered bodies for the anonymous
public; Cache-Control for proxies. Only responses that already went through the query layer are
cached, and a signed-in user's responses are never shared: nothing one audience may see can
reach another through a cache."""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from threading import Lock
from typing import Any, Callable

import orjson
from fastapi import Request, Response

from obmi import operations as ops
from obmi.context import Context

MAX_ENTRIES = 1024


class BodyCache:
    def __init__(self, size: int = MAX_ENTRIES):
        self.size = size
        self.entries: OrderedDict[tuple, bytes] = OrderedDict()
        self.lock = Lock()

    def get(self, key: tuple) -> bytes | None:
        with self.lock:
            body = self.entries.get(key)
            if body is not None:
                self.entries.move_to_end(key)
            return body

    def put(self, key: tuple, body: bytes) -> None:
        with self.lock:
            self.entries[key] = body
            while len(self.entries) > self.size:
                self.entries.popitem(last=False)


def encode_json(data: Any) -> bytes:
    # orjson: a 3,000-area map is ~600 kB of JSON; the standard library takes 4× as long.
    return orjson.dumps(data, default=str, option=orjson.OPT_NON_STR_KEYS)


def request_key(request: Request) -> str:
    query = "&".join(sorted(f"{k}={v}" for k, v in request.query_params.multi_items()))
    return f"{request.url.path}?{query}"


def audience(ctx: Context) -> str:
    """Whose view a response is: the public's (shared) or one user's or token's (private)."""
    actor = ctx.actor
    if actor.is_anonymous:
        return "public"
    return f"{actor.via}:{actor.user_id}:{actor.token_id or ''}"


def cached(request: Request, ctx: Context, build: Callable[[], Any], *,
           media_type: str = "application/json", encode: Callable[[Any], bytes] | None = None,
           vary: str = "") -> Response:
    """`vary`: what else the body depends on besides the URL and the audience (a request header)."""
    who = audience(ctx)
    key = (ops.data_version(ctx).tag, who, request_key(request) + (f"#{vary}" if vary else ""))
    etag = '"' + hashlib.sha256(repr(key).encode()).hexdigest()[:20] + '"'
    shared = who == "public"
    headers = {"ETag": etag, "Cache-Control": "public, max-age=60" if shared else "private, no-cache",
               "Vary": "Accept-Language, Cookie, Authorization"}
    if etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    cache: BodyCache = request.app.state.body_cache
    body = cache.get(key) if shared else None
    if body is None:
        body = (encode or encode_json)(build())
        if shared:
            cache.put(key, body)
    return Response(body, media_type=media_type, headers=headers)
