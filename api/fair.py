"""FAIR access over HTTP: dataset IRIs with content negotiation, the DCAT catalogue, OAI-PMH.

Thin adapters: parse the request, read a view through the exports package, serialise. Every
response is public metadata of published datasets; drafts and reserved DOIs answer 404.
"""

from __future__ import annotations

import json
import uuid
from urllib.parse import parse_qsl, urlencode, urlsplit

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from api.errors import error_body
from catalogue.exports import dcat
from catalogue.exports.catalog import MAX_PAGE_SIZE, catalogue_page
from catalogue.exports.citation import citation
from catalogue.exports.datacite import to_datacite_json, to_datacite_xml
from catalogue.exports.landing import render_landing, signposting
from catalogue.exports.negotiation import NotAcceptableError, Representation, choose
from catalogue.exports.oaipmh import OaiConfig, OaiProvider
from catalogue.exports.schemaorg import to_schemaorg
from catalogue.exports.view import DatasetView, Node, load_view
from catalogue.settings import Settings
from catalogue.store import Store

_CITATION_STYLES = {"citation": "text", "bibtex": "bibtex", "ris": "ris"}
_RDF = {"turtle": "text/turtle", "jsonld": "application/ld+json", "rdfxml": "application/rdf+xml"}
_MAX_OAI_BODY = 64 * 1024  # an OAI-PMH POST carries a handful of short arguments


def fair_router(settings: Settings, store: Store) -> APIRouter:
    node = Node(base_url=settings.base_iri, name=settings.node_name)
    oai = OaiProvider(store, node, _oai_config(settings))
    router = APIRouter(tags=["FAIR"])

    def _view(kind: str, entity_id: uuid.UUID) -> DatasetView:
        with Session(store.engine) as session:
            return load_view(session, node, kind, entity_id)

    async def resolve(
        request: Request, kind: str, entity_id: uuid.UUID, fmt: str | None
    ) -> Response:
        try:
            wanted = choose(request.headers.get("accept"), fmt)
        except NotAcceptableError as exc:
            return JSONResponse(error_body("not_acceptable", str(exc)), status_code=406)
        view = await run_in_threadpool(_view, kind, entity_id)
        return await run_in_threadpool(represent, view, wanted)

    @router.get("/id/dataset/{dataset_id}", summary="A dataset (all versions), negotiated")
    async def get_dataset(
        request: Request, dataset_id: uuid.UUID, format: str | None = None
    ) -> Response:
        return await resolve(request, "dataset", dataset_id, format)

    @router.get("/id/dataset_version/{version_id}", summary="One dataset version, negotiated")
    async def get_version(
        request: Request, version_id: uuid.UUID, format: str | None = None
    ) -> Response:
        return await resolve(request, "dataset_version", version_id, format)

    for path, endpoint in (
        ("/id/dataset/{dataset_id}", get_dataset),
        ("/id/dataset_version/{version_id}", get_version),
    ):  # resolvers and link checkers ask HEAD; one documented operation is enough
        router.add_api_route(path, endpoint, methods=["HEAD"], include_in_schema=False)

    @router.get("/catalog", summary="The node's DCAT-AP catalogue, one page at a time")
    async def get_catalogue(
        request: Request,
        after: uuid.UUID | None = None,
        page_size: int = Query(100, ge=1, le=MAX_PAGE_SIZE),
        format: str | None = None,
    ) -> Response:
        try:
            wanted = _rdf_choice(request.headers.get("accept"), format)
        except NotAcceptableError as exc:
            return JSONResponse(error_body("not_acceptable", str(exc)), status_code=406)
        body = await run_in_threadpool(_catalogue, store, node, after, page_size, wanted)
        return Response(body, media_type=wanted, headers={"Vary": "Accept"})

    @router.get("/oai", summary="OAI-PMH 2.0 (oai_dc, oai_datacite)")
    async def get_oai(request: Request) -> Response:
        return await _oai_response(oai, request.query_params.multi_items())

    @router.post("/oai", summary="OAI-PMH 2.0 (form-encoded POST)")
    async def post_oai(request: Request) -> Response:
        body = await request.body()
        if len(body) > _MAX_OAI_BODY:
            return JSONResponse(error_body("payload_too_large", "request too large"), 413)
        return await _oai_response(oai, parse_qsl(body.decode("utf-8", "replace")))

    return router


def represent(view: DatasetView, wanted: Representation) -> Response:
    """The view in the chosen representation; a withdrawn dataset's landing page is a tombstone."""
    headers = {"Vary": "Accept", "Link": signposting(view)}
    status = 410 if view.deleted else 200
    if wanted.name == "html":
        return Response(render_landing(view), status, headers, media_type="text/html")
    if view.deleted:
        message = "this dataset was withdrawn; its landing page says why"
        return JSONResponse(error_body("gone", message), 410, headers)
    body: str | bytes
    if wanted.name == "datacite-json":
        body = json.dumps(to_datacite_json(view), ensure_ascii=False)
    elif wanted.name == "datacite-xml":
        body = to_datacite_xml(view)
    elif wanted.name == "schemaorg":
        body = json.dumps(to_schemaorg(view), ensure_ascii=False)
    elif wanted.name in _CITATION_STYLES:
        body = citation(view, _CITATION_STYLES[wanted.name])
    else:
        body = dcat.serialise(dcat.dataset_graph(view), _RDF[wanted.name])
    return Response(body, status, headers, media_type=wanted.media_type)


def _rdf_choice(accept: str | None, fmt: str | None) -> str:
    if fmt is not None:
        if fmt not in _RDF:
            raise NotAcceptableError(f"unknown format {fmt!r}; offered: {', '.join(_RDF)}")
        return _RDF[fmt]
    if not accept or "*/*" in accept:
        return "text/turtle"
    wanted = choose(accept, None)
    if wanted.name not in _RDF:
        raise NotAcceptableError(f"offered: {', '.join(_RDF.values())}")
    return _RDF[wanted.name]


def _catalogue(
    store: Store, node: Node, after: uuid.UUID | None, size: int, media_type: str
) -> bytes:
    with Session(store.engine) as session:
        page = catalogue_page(session, node, after, size)
    url = f"{node.base_url}/catalog"
    links = {
        "self": f"{url}?{urlencode(_page_args(after, size))}",
        "first": f"{url}?{urlencode(_page_args(None, size))}",
        "next": f"{url}?{urlencode(_page_args(page.next_after, size))}"
        if page.next_after
        else None,
        "total": page.total,
    }
    graph = dcat.catalogue_graph(node.base_url, node.name, page.datasets, links)
    return dcat.serialise(graph, media_type)


def _page_args(after: uuid.UUID | None, size: int) -> dict[str, str]:
    return {"page_size": str(size)} | ({"after": str(after)} if after else {})


async def _oai_response(oai: OaiProvider, query: list[tuple[str, str]]) -> Response:
    chunks = await run_in_threadpool(oai.respond, query)  # the first page's queries run here
    return StreamingResponse(chunks, media_type="text/xml; charset=utf-8")


def _oai_config(settings: Settings) -> OaiConfig:
    host = urlsplit(settings.base_iri).hostname or "localhost"
    domain = host if "." in host else f"{host}.invalid"
    return OaiConfig(
        base_url=f"{settings.base_iri}/oai",
        repository_name=settings.node_name,
        admin_email=f"curators@{domain}",
    )
