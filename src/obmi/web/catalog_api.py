"""The open-data catalogue (DCAT-AP 3) at stable URLs (docs/open-data.md):

    /catalog.ttl, /catalog.jsonld, /catalog.rdf                      the whole catalogue
    /catalog/datasets/CODE.ttl, .jsonld, .rdf                         one dataset's document
    /catalog, /catalog/datasets/CODE                                  the IRIs: 303 See Other to the
                                                                      document in the format asked
                                                                      (Accept), a dataset's HTML page
                                                                      for a browser

Each asker gets what they may see (harvesters ask as the public: public datasets only), with
the same ETag and Cache-Control as the JSON API, tied to the data version (obmi.web.caching).
Not in the OpenAPI document: the answers are RDF, not JSON of a schema."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import RedirectResponse

from obmi import operations as ops
from obmi.context import Context
from obmi.errors import NotFound
from obmi.publish.dcat import SERIALISATIONS
from obmi.web.caching import cached
from obmi.web.deps import CtxDep
from obmi.web.ratelimit import open_data_rate_limit

router = APIRouter(include_in_schema=False, dependencies=[Depends(open_data_rate_limit)])
# Media type → suffix, for content negotiation on the IRIs (plain JSON asks for JSON-LD).
NEGOTIATED = {"text/turtle": "ttl", "application/x-turtle": "ttl", "application/ld+json": "jsonld",
              "application/json": "jsonld", "application/rdf+xml": "rdf", "application/xml": "rdf"}
HTML = ("text/html", "application/xhtml+xml")


def _document(request: Request, ctx: Context, fmt: str, dataset: str | None = None) -> Response:
    serialisation = SERIALISATIONS.get(fmt)
    if serialisation is None:
        raise NotFound(f"no catalogue in format {fmt!r} (formats: {', '.join(SERIALISATIONS)})")
    return cached(request, ctx, lambda: ops.catalog_document(ctx, fmt, dataset=dataset).text,
                  media_type=serialisation.media_type, encode=lambda text: text.encode("utf-8"))


def negotiate(accept: str) -> str | None:
    """The suffix of the RDF format the Accept header prefers; None when it prefers HTML."""
    best: tuple[float, int, str | None] = (0.0, 0, None)
    for position, part in enumerate(accept.split(",")):
        media, _, params = part.strip().partition(";")
        media = media.strip().lower()
        quality = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        suffix = "html" if media in HTML else NEGOTIATED.get(media)
        if suffix is not None and (quality, -position) > best[:2]:
            best = (quality, -position, suffix)
    return None if best[2] == "html" else best[2] or "ttl"


@router.get("/catalog.{fmt}")
def catalog(request: Request, ctx: CtxDep, fmt: str) -> Response:
    """The whole catalogue."""
    return _document(request, ctx, fmt)


@router.get("/catalog/datasets/{code}.{fmt}")
def dataset(request: Request, ctx: CtxDep, code: str, fmt: str) -> Response:
    """One dataset: its distributions, record, series and services."""
    return _document(request, ctx, fmt, dataset=code)


@router.get("/catalog")
def catalog_iri(request: Request) -> Response:
    return RedirectResponse(f"/catalog.{negotiate(request.headers.get('accept', '')) or 'ttl'}", status_code=303)


@router.get("/catalog/datasets/{code}")
def dataset_iri(request: Request, code: str) -> Response:
    suffix = negotiate(request.headers.get("accept", ""))
    target = f"/indicatoren/{code}" if suffix is None else f"/catalog/datasets/{code}.{suffix}"
    return RedirectResponse(target, status_code=303)
