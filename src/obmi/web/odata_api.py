"""The OData v4 service at /odata/ (read-only, JSON; docs/odata.md): the service document,
$metadata (CSDL XML) and every resource path, answered by the operations `odata_model` and
`odata_read` (no SQL here). Errors answer OData's error JSON (`{"error": {"code", "message",
"target"}}`), whatever the client accepts; every answer carries `OData-Version: 4.0` and the
cache validators of the JSON API (ETag tied to the data version). Clients are rate-limited per
token or address (OBMI_OPEN_DATA_RATE_PER_MINUTE): 429 with Retry-After."""

from __future__ import annotations

import re
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

from obmi import operations as ops
from obmi.errors import ObmiError, ValidationError
from obmi.web.caching import cached, encode_json
from obmi.web.deps import CtxDep
from obmi.web.errors import CHALLENGE, STATUS
from obmi.web.params import in_words
from obmi.web.ratelimit import open_data_wait, retry_after

PREFIX = "/odata"
JSON_TYPE = "application/json;odata.metadata=minimal;IEEE754Compatible=false;charset=utf-8"
VERSION = {"OData-Version": "4.0"}


def error_response(exc: ObmiError) -> JSONResponse:
    status = getattr(exc, "status", None) or (400 if isinstance(exc, ValidationError) else
                                             next((c for cls, c in STATUS if isinstance(exc, cls)), 400))
    message = exc.args[0] if exc.args else type(exc).__name__
    error: dict[str, Any] = {"code": getattr(exc, "code", None) or type(exc).__name__, "message": message}
    if getattr(exc, "target", None):
        error["target"] = exc.target  # type: ignore[attr-defined]
    headers = dict(VERSION)
    if status == 401:
        headers["WWW-Authenticate"] = CHALLENGE
    return JSONResponse({"error": error}, status_code=status, headers=headers)


class ODataRoute(APIRoute):
    """Rate limit first; domain errors (also those of the dependencies, such as an invalid token)
    as OData error JSON; the OData-Version header on every answer."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def answer(request: Request) -> Response:
            wait = open_data_wait(request)
            if wait:
                return JSONResponse({"error": {"code": "TooManyRequests", "message": "too many requests: retry later"}},
                                    status_code=429, headers={**VERSION, "Retry-After": str(retry_after(wait))})
            try:
                response = await handler(request)
            except ObmiError as exc:
                return error_response(exc)
            except RequestValidationError as exc:
                return JSONResponse({"error": {"code": "BadRequest", "message": f"invalid request: {in_words(exc)}"}},
                                    status_code=400, headers=VERSION)
            response.headers.update(VERSION)
            return response
        return answer


router = APIRouter(prefix=PREFIX, include_in_schema=False, route_class=ODataRoute)


def base_url(request: Request) -> str:
    return f"{str(request.base_url).rstrip('/')}{PREFIX}/"


def _params(request: Request) -> dict[str, str]:
    """The system query options ($…). Other parameters mean nothing to this service: they are
    neither echoed in next links nor a reason for another cache entry."""
    return {k: v for k, v in request.query_params.items() if k.startswith("$")}


MAX_PAGE = re.compile(r"(?:^|[,;\s])odata\.maxpagesize\s*=\s*(\d+)", re.IGNORECASE)


def max_page_size(request: Request) -> int | None:
    """The client's `Prefer: odata.maxpagesize=N` (server-driven paging with smaller pages)."""
    found = MAX_PAGE.search(request.headers.get("prefer", ""))
    return int(found.group(1)) if found else None


@router.get("")
@router.get("/")
def service_document(request: Request, ctx: CtxDep) -> Response:
    """The entity sets (those that need a token are listed to signed-in callers only)."""
    return cached(request, ctx, lambda: ops.odata_model(ctx).service_document(
        base_url(request), signed_in=not ctx.actor.is_anonymous), media_type=JSON_TYPE)


@router.get("/$metadata")
def metadata(request: Request, ctx: CtxDep) -> Response:
    """The model as CSDL XML."""
    return cached(request, ctx, lambda: ops.odata_model(ctx).csdl(), media_type="application/xml",
                  encode=lambda xml: xml.encode("utf-8"))


@router.get("/{path:path}")
def resource(request: Request, ctx: CtxDep, path: str) -> Response:
    """An entity set, one entity by key, its navigation property, or /$count."""
    params = _params(request)
    page_size = max_page_size(request)

    def build() -> Any:
        return ops.odata_read(ctx, path, params, base_url=base_url(request), max_page_size=page_size).payload

    def encode(payload: Any) -> bytes:
        return str(payload).encode() if isinstance(payload, int) else encode_json(payload)

    count = path.endswith("/$count")
    response = cached(request, ctx, build, media_type="text/plain" if count else JSON_TYPE, encode=encode,
                      vary=f"prefer={page_size}", params=params)
    if page_size is not None:
        response.headers["Preference-Applied"] = f"odata.maxpagesize={page_size}"
    return response
