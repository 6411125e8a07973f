"""The Elasticsearch 8 backend: versioned indices behind aliases, bulk writes, `search_after`.

Each kind has an alias `<prefix>-<kind>` over an index `<prefix>-<kind>-<version>`. A rebuild
fills a new version (refresh off, no replicas), then moves every alias in one `_aliases` call,
so searches never see a half-built index. Only server-core features are used: the minimal
distribution has no analysis-common, painless, reindex or ingest module.

Engine failures become `SearchUnavailableError` (connection, timeout, 429, 5xx); nothing of the
engine's own error text reaches a caller.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from elastic_transport import ConnectionError as TransportConnectionError
from elastic_transport import ConnectionTimeout, TransportError
from elasticsearch import ApiError, Elasticsearch, helpers

from catalogue.errors import CatalogueError, SearchUnavailableError
from catalogue.search import _es_query as dsl
from catalogue.search.backend import (
    AggregateRequest,
    Aggregates,
    FacetCounts,
    GroupCounts,
    Hit,
    IndexInfo,
    IndexWriter,
    Page,
    Scope,
    SearchRequest,
)
from catalogue.search.documents import DocRef, Document
from catalogue.search.fields import FIELDS, KINDS, Kind
from catalogue.search.query import Filter

log = logging.getLogger(__name__)
BULK_CHUNK = 500
RETRY_ADVICE = "retry in 30 seconds"
_FIELDS = ["id", "iri", "collection", "site"]


class ElasticsearchBackend:
    name = "elasticsearch"

    def __init__(
        self, url: str, prefix: str = "catalogue", api_key: str | None = None, timeout: float = 10.0
    ) -> None:
        self.prefix = prefix
        self._ensured = False  # aliases exist: no need to ask again on every drain
        self.client = Elasticsearch(
            url, api_key=api_key, request_timeout=timeout, max_retries=0, retry_on_timeout=False
        )

    def alias(self, kind: Kind) -> str:
        return f"{self.prefix}-{kind}"

    # -- index management -------------------------------------------------------------------------
    def ensure(self) -> None:
        if self._ensured:
            return
        with _engine():
            missing = [k for k in KINDS if not self.client.indices.exists_alias(name=self.alias(k))]
            if missing:
                names = self._create(missing, building=False)
                actions = [{"add": {"index": names[k], "alias": self.alias(k)}} for k in missing]
                self.client.indices.update_aliases(actions=actions)
        self._ensured = True

    def _create(self, kinds: Sequence[Kind], building: bool) -> dict[Kind, str]:
        version = time.strftime("%Y%m%d%H%M%S") + "-" + secrets.token_hex(2)
        names = {k: f"{self.alias(k)}-{version}" for k in kinds}
        for kind, name in names.items():
            settings: dict[str, Any] = {
                "number_of_shards": 1,
                "mapping.nested_objects.limit": 100_000,
                **(
                    {"number_of_replicas": 0, "refresh_interval": "-1"}
                    if building
                    else {"auto_expand_replicas": "0-1"}
                ),
            }
            self.client.indices.create(index=name, mappings=dsl.mapping(kind), settings=settings)
        return names

    def rebuild(self, fill: Callable[[IndexWriter], None]) -> None:
        with _engine():
            names = self._create(KINDS, building=True)
        try:
            fill(_Writer(self.client, names))
            with _engine():
                live = {"refresh_interval": None, "auto_expand_replicas": "0-1"}
                self.client.indices.put_settings(index=list(names.values()), settings=live)
                self.client.indices.refresh(index=list(names.values()))
                self._swap(names)
        except BaseException:
            with _engine():
                self.client.options(ignore_status=404).indices.delete(index=list(names.values()))
            raise

    def _swap(self, names: dict[Kind, str]) -> None:
        actions: list[dict[str, Any]] = []
        old: list[str] = []
        for kind, name in names.items():
            current = self.client.options(ignore_status=404).indices.get_alias(
                name=self.alias(kind)
            )
            for index in current.body if current.meta.status == 200 else {}:
                actions.append({"remove": {"index": index, "alias": self.alias(kind)}})
                old.append(index)
            actions.append({"add": {"index": name, "alias": self.alias(kind)}})
        self.client.indices.update_aliases(actions=actions)  # one atomic switch for every kind
        if old:
            self.client.indices.delete(index=old)

    # -- writes -----------------------------------------------------------------------------------
    def index(self, docs: Sequence[Document]) -> None:
        _Writer(self.client, {k: self.alias(k) for k in KINDS}).index(docs)

    def delete(self, refs: Sequence[DocRef]) -> None:
        _Writer(self.client, {k: self.alias(k) for k in KINDS}).delete(refs)

    def refresh(self) -> None:
        with _engine():
            self.client.indices.refresh(index=[self.alias(k) for k in KINDS])

    # -- reads ------------------------------------------------------------------------------------
    def search_body(self, request: SearchRequest) -> dict[str, Any]:
        """The request body of one page (size + 1 hits, to know whether another follows)."""
        body: dict[str, Any] = {
            "query": dsl.query(request.kind, request.text, request.filter, request.scope),
            "sort": dsl.sort(request.sort),
            "size": request.size + 1,
            "track_total_hits": request.count_total,
            "_source": _FIELDS,
        }
        if request.after is not None:
            body["search_after"] = request.after
        return body

    def search(self, request: SearchRequest) -> Page:
        with _engine():
            found = self.client.search(index=self.alias(request.kind), **self.search_body(request))
        rows = found["hits"]["hits"]
        hits = [_hit(request.kind, row, bool(request.text)) for row in rows[: request.size]]
        more = request.size > 0 and len(rows) > request.size
        after = list(rows[request.size - 1]["sort"]) if more else None
        counted = found["hits"].get("total") if request.count_total else None
        return Page(hits=hits, total=int(counted["value"]) if counted else None, after=after)

    def count(self, kind: Kind, filter: Filter | None, text: str | None, scope: Scope) -> int:
        with _engine():
            found = self.client.count(
                index=self.alias(kind), query=dsl.query(kind, text, filter, scope)
            )
        return int(found["count"])

    def aggregate_body(self, request: AggregateRequest) -> dict[str, Any]:
        inner: dict[str, Any] = {f"s_{n}": {"sum": {"field": n}} for n in request.sums}
        inner.update(
            {f"f_{i}": dsl.facet_aggs(request.kind, f) for i, f in enumerate(request.facets)}
        )
        aggs = inner
        if request.by_collection and request.kind != "datasets":
            size = (
                len(request.scope.collections) if request.scope.collections is not None else 10_000
            )
            group = {"terms": {"field": "collection", "size": max(size, 1)}, "aggs": inner}
            aggs = {"g": group}
        query = dsl.query(request.kind, request.text, request.filter, request.scope)
        return {"query": query, "size": 0, "track_total_hits": True, "aggs": aggs}

    def aggregate(self, request: AggregateRequest) -> Aggregates:
        with _engine():
            found = self.client.search(
                index=self.alias(request.kind), **self.aggregate_body(request)
            )
        aggs = found.get("aggregations", {})
        if "g" in aggs:
            groups = {
                b["key"]: _group(request, b, int(b["doc_count"])) for b in aggs["g"]["buckets"]
            }
        else:
            total = int(found["hits"]["total"]["value"])
            groups = {"": _group(request, aggs, total)} if total else {}
        return Aggregates(groups=groups)

    def info(self) -> IndexInfo:
        self.ensure()
        with _engine():
            counts: dict[str, int] = {
                k: int(self.client.count(index=self.alias(k))["count"]) for k in KINDS
            }
            stats = self.client.indices.stats(index=[self.alias(k) for k in KINDS], metric="store")
            names = sorted(stats["indices"])
        size = int(stats["_all"]["primaries"]["store"]["size_in_bytes"])
        return IndexInfo(self.name, ", ".join(names), counts, size)

    def outdated(self) -> bool:
        with _engine():
            found = self.client.options(ignore_status=404).indices.get_mapping(
                index=[self.alias(k) for k in KINDS]
            )
        if found.meta.status == 404:  # no index yet: the first write creates this version's
            return False
        versions = {m["mappings"].get("_meta", {}).get("schema") for m in found.body.values()}
        return versions != {dsl.SCHEMA_VERSION}

    def close(self) -> None:
        self.client.close()


class _Writer:
    """Bulk writes into named indices (the aliases, or a rebuild's new indices)."""

    def __init__(self, client: Elasticsearch, names: dict[Kind, str]) -> None:
        self.client, self.names = client, names

    def index(self, docs: Sequence[Document]) -> None:
        actions = ({"_index": self.names[d.kind], "_id": d.id, "_source": d.body} for d in docs)
        self._bulk(actions)

    def delete(self, refs: Sequence[DocRef]) -> None:
        actions = ({"_op_type": "delete", "_index": self.names[k], "_id": i} for k, i in refs)
        self._bulk(actions)

    def _bulk(self, actions: Iterator[dict[str, Any]]) -> None:
        with _engine():
            _, errors = helpers.bulk(
                self.client, actions, chunk_size=BULK_CHUNK, raise_on_error=False, stats_only=False
            )
        assert isinstance(errors, list)  # stats_only=False: the failed items themselves
        failed = [e for e in errors if isinstance(e, dict) and _status(e) != 404]
        if any(_status(e) == 429 or _status(e) >= 500 for e in failed):
            raise SearchUnavailableError(f"Elasticsearch is overloaded: {RETRY_ADVICE}")
        if failed:
            # A document the engine refuses (4xx) would refuse again on every retry: it is a bug
            # in the mapping or the dumper, reported loudly but without stalling the outbox.
            log.error(
                "Elasticsearch refused %d document(s), e.g. %s", len(failed), _reason(failed[0])
            )


def _status(error: dict[str, Any]) -> int:
    return int(next(iter(error.values())).get("status", 500))


def _reason(error: dict[str, Any]) -> str:
    item = next(iter(error.values()))
    return f"{item.get('_index')}/{item.get('_id')}: {item.get('error', {}).get('type', '?')}"


def _hit(kind: Kind, row: dict[str, Any], scored: bool) -> Hit:
    src = row["_source"]
    score = row["_score"] if scored else None
    return Hit(kind, src["id"], src.get("iri"), src.get("collection"), src.get("site"), score)


def _group(request: AggregateRequest, bucket: dict[str, Any], docs: int) -> GroupCounts:
    sums = {n: int(bucket[f"s_{n}"]["value"] or 0) for n in request.sums}
    facets = {}
    for i, facet in enumerate(request.facets):
        buckets, with_value = dsl.read_facet(FIELDS[facet.field], bucket[f"f_{i}"])
        facets[facet.field] = FacetCounts(buckets=buckets, with_value=with_value)
    return GroupCounts(docs=docs, sums=sums, facets=facets)


@contextmanager
def _engine() -> Iterator[None]:
    """Engine failures as the catalogue's errors: unavailable (retry) or a refused request."""
    try:
        yield
    except (TransportConnectionError, ConnectionTimeout) as exc:
        raise SearchUnavailableError(
            f"Elasticsearch is unreachable ({type(exc).__name__}): {RETRY_ADVICE}"
        ) from None
    except ApiError as exc:
        if exc.meta.status == 429 or exc.meta.status >= 500:
            raise SearchUnavailableError(
                f"Elasticsearch answered HTTP {exc.meta.status}: {RETRY_ADVICE}"
            ) from None
        log.error("Elasticsearch refused a request: HTTP %s %s", exc.meta.status, exc.message)
        raise CatalogueError(
            f"the search engine refused the request (HTTP {exc.meta.status})"
        ) from None
    except TransportError as exc:
        raise SearchUnavailableError(
            f"Elasticsearch failed ({type(exc).__name__}): {RETRY_ADVICE}"
        ) from None
