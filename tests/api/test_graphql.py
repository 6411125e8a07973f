"""The first GraphQL query: sites, collections and counts, with suppression, over HTTP."""

from __future__ import annotations

import httpx
import pytest

from catalogue.models import Collection, ImagingStudy, Series, Source, Subject, Visibility
from catalogue.store import Store

pytestmark = pytest.mark.anyio

QUERY = """{ node { name version }
  sites { edges { node { slug name collections { edges { node { title visibility siteSlug
    counts { subjects { value suppressed threshold } studies { value }
             series { value suppressed } } } } } } } } }"""


def _collection(store: Store, title: str, visibility: Visibility, subjects: int) -> None:
    site = store.ensure_site("site-a", "Site A")
    with store.session() as session:
        source = Source(name=title.lower(), kind="dicom-folder", site_id=site.id)
        session.add(source)
        session.flush()  # parents first: the models declare no ORM relationships
        collection = Collection(
            source_id=source.id,
            native_id=title,
            site_id=site.id,
            title=title,
            visibility=visibility,
        )
        session.add(collection)
        session.flush()
        for n in range(subjects):
            subject = Subject(source_id=source.id, native_id=f"s{n}", collection_id=collection.id)
            session.add(subject)
            session.flush()
            study = ImagingStudy(
                source_id=source.id,
                native_id=f"st{n}",
                subject_id=subject.id,
                collection_id=collection.id,
            )
            session.add(study)
            session.flush()
            for k in range(2):
                session.add(
                    Series(
                        source_id=source.id,
                        native_id=f"se{n}.{k}",
                        study_id=study.id,
                        subject_id=subject.id,
                        collection_id=collection.id,
                    )
                )


async def _query(client: httpx.AsyncClient, query: str) -> dict:  # type: ignore[type-arg]
    response = await client.post("/graphql", json={"query": query})
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    return body["data"]  # type: ignore[no-any-return]


async def test_sites_collections_and_counts(client: httpx.AsyncClient, store: Store) -> None:
    _collection(store, "Open", Visibility.PUBLIC, subjects=2)
    _collection(store, "Counts only", Visibility.AGGREGATE, subjects=3)
    _collection(store, "Big counts only", Visibility.AGGREGATE, subjects=6)
    _collection(store, "Hidden", Visibility.PRIVATE, subjects=9)

    data = await _query(client, QUERY)

    assert data["node"] == {"name": "Imaging catalogue", "version": "0.1.0"}
    [site] = [e["node"] for e in data["sites"]["edges"]]
    assert site["slug"] == "site-a"
    by_title = {e["node"]["title"]: e["node"]["counts"] for e in site["collections"]["edges"]}
    assert set(by_title) == {"Open", "Counts only", "Big counts only"}  # private is not listed
    assert by_title["Open"]["subjects"] == {"value": 2, "suppressed": False, "threshold": None}
    assert by_title["Open"]["series"] == {"value": 4, "suppressed": False}
    assert by_title["Counts only"]["subjects"] == {
        "value": None,
        "suppressed": True,
        "threshold": 5,
    }
    assert by_title["Counts only"]["studies"] == {"value": None}
    assert by_title["Counts only"]["series"] == {"value": 6, "suppressed": False}
    assert by_title["Big counts only"]["subjects"]["value"] == 6


async def test_collections_of_one_site(client: httpx.AsyncClient, store: Store) -> None:
    _collection(store, "Open", Visibility.PUBLIC, subjects=1)
    data = await _query(
        client,
        '{ a: collections(site: "site-a") { edges { node { title } } } '
        '  b: collections(site: "elsewhere") { totalCount edges { node { title } } } }',
    )
    assert data == {
        "a": {"edges": [{"node": {"title": "Open"}}]},
        "b": {"totalCount": 0, "edges": []},
    }


async def test_invalid_queries_get_graphql_errors(client: httpx.AsyncClient) -> None:
    response = await client.post("/graphql", json={"query": "{ sites { nope } }"})
    body = response.json()
    assert response.status_code == 200
    assert "Cannot query field 'nope'" in body["errors"][0]["message"]
    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert "Traceback" not in response.text


async def test_graphiql_is_served(client: httpx.AsyncClient) -> None:
    response = await client.get("/graphql", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert "graphiql" in response.text.lower()
