"""The whole flow on SQLite and PostgreSQL: a dataset from a cohort across two sites, its DOIs
reserved and published on the DataCite contract server, a second version after a new harvest."""

from __future__ import annotations

import csv
import io
import json

import pytest

from catalogue.access import ANONYMOUS, Identity
from catalogue.errors import NotFoundError
from catalogue.models import DoiState, HarvestRun, RunStatus, Source
from catalogue.publishing.service import DatasetService
from catalogue.search.embedded import EmbeddedBackend
from catalogue.search.indexer import Indexer
from tests.publishing.conftest import ADMIN, PREFIX, Node, _subject
from tests.publishing.datacite_server import DataCiteContract

MR_COHORT = {
    "filter": {"op": "has_series", "where": {"op": "term", "field": "modality", "value": "MR"}}
}
METADATA = {
    "creators": [
        {
            "name": "Fenner, Martin",
            "given_name": "Martin",
            "family_name": "Fenner",
            "orcid": "0000-0003-1419-2405",
            "affiliations": [{"name": "DataCite", "ror": "https://ror.org/04wxnsj81"}],
        }
    ],
    "license": "CC-BY-4.0",
    "keywords": ["neuroimaging", "MRI"],
    "subjects": [{"label": "Brain", "iri": "http://snomed.info/id/12738006", "scheme": "SCT"}],
    "funding": [{"funder_name": "European Commission", "award_number": "101057123"}],
    "related": [{"identifier": "10.5438/prvv-nv23", "relation_type": "IsDescribedBy"}],
    "access_conditions": [
        {
            "site": "north",
            "who": "researchers with an approved proposal",
            "how": "data access committee",
        }
    ],
    "custom_fields": {"consortium_project": "BRAIN-2026"},
}


def _relations(attributes: dict[str, object]) -> set[tuple[str, str]]:
    return {(r["relationType"], r["relatedIdentifier"]) for r in attributes["relatedIdentifiers"]}  # type: ignore[attr-defined, index]


def test_cohort_dataset_published_in_two_versions(
    node: Node, service: DatasetService, contract: DataCiteContract, tmp_path: object
) -> None:
    created = service.create(
        ADMIN,
        {"slug": "brain-mr", "title": "Brain MR across two sites", "query": MR_COHORT,
         "metadata": METADATA},
    )  # fmt: skip
    [v1] = created.versions
    # listed: 6 public north subjects (2 MR + SEG every third) and 4 registered south ones
    assert v1.members == (6 * 2 + 2) + (4 * 2 + 2)
    assert {(c.site, c.subjects) for c in v1.counted} == {("north", 3), ("south", 7)}
    assert set(v1.harvest_runs) == {str(r) for r in node.runs.values()}
    assert v1.query == {"kind": "subjects", "text": None, "filter": MR_COHORT["filter"]}
    assert created.state is DoiState.DRAFT and v1.doi is None
    assert created.access_conditions[0]["site"] == "north"
    assert created.custom_fields == {"consortium_project": "BRAIN-2026"}

    reserved = service.reserve(ADMIN, created.id)
    assert reserved.state is DoiState.RESERVED and reserved.failures == []
    concept, v1_doi = reserved.concept_doi, reserved.versions[0].doi
    assert concept and concept.startswith(PREFIX + "/") and v1_doi == f"{concept}.v1"
    assert contract.dois[concept]["state"] == contract.dois[v1_doi]["state"] == "draft"
    with pytest.raises(NotFoundError):  # nothing published yet: not there for the public
        service.find(ANONYMOUS, "brain-mr")
    published = service.publish(ADMIN, created.id)
    assert published.failures == []
    assert published.state is DoiState.FINDABLE
    assert published.versions[0].state is DoiState.FINDABLE
    remote_v1 = contract.dois[v1_doi]
    assert remote_v1["state"] == "findable" and remote_v1["version"] == "1"
    assert remote_v1["url"] == published.versions[0].iri
    assert ("IsVersionOf", concept) in _relations(remote_v1)
    assert ("IsDescribedBy", "10.5438/prvv-nv23") in _relations(remote_v1)
    assert remote_v1["creators"][0]["nameIdentifiers"][0]["nameIdentifier"] == (
        "https://orcid.org/0000-0003-1419-2405"
    )
    assert remote_v1["rightsList"][0]["rightsIdentifier"] == "CC-BY-4.0"
    assert ("HasVersion", v1_doi) in _relations(contract.dois[concept])

    _harvest_one_more_subject(node)
    second = service.new_version(ADMIN, created.id)
    v2 = second.versions[-1]
    assert v2.version == "2" and v2.state is DoiState.DRAFT
    assert v2.members == v1.members + 2
    assert len(v2.harvest_runs) == 3
    final = service.publish(ADMIN, created.id)
    assert final.failures == []
    v2_doi = final.versions[-1].doi
    assert v2_doi == f"{concept}.v2" and contract.dois[v2_doi]["state"] == "findable"
    assert {("IsVersionOf", concept), ("IsNewVersionOf", v1_doi)} <= _relations(
        contract.dois[v2_doi]
    )
    assert ("IsPreviousVersionOf", v2_doi) in _relations(contract.dois[v1_doi])
    assert {("HasVersion", v1_doi), ("HasVersion", v2_doi)} <= _relations(contract.dois[concept])
    assert contract.dois[concept]["version"] == "2"

    # anyone may read it now, by slug or either DOI
    assert service.find(ANONYMOUS, v2_doi) == service.find(ANONYMOUS, "brain-mr") == created.id
    public = service.show(ANONYMOUS, created.id)
    assert public.failures == [] and [v.version for v in public.versions] == ["1", "2"]
    assert all(c.suppressed for c in public.versions[0].counted if c.site == "north")


def _harvest_one_more_subject(node: Node) -> None:
    """A later harvest of the north site adds a subject to its public collection."""
    from sqlmodel import select

    from catalogue.models import Collection

    with node.store.session() as session:
        source = session.exec(select(Source).where(Source.name == "pacs-north")).one()
        coll = session.get(Collection, node.collections["north-brain"])
        run = HarvestRun(source_id=source.id, status=RunStatus.SUCCEEDED, complete=True)
        session.add(run)
        session.flush()
        _subject(session, "north", source, run, coll, 7)
    backend = node.search.backend
    assert isinstance(backend, EmbeddedBackend)
    Indexer(node.store, backend).drain()


def test_datasheet_is_suppressed_like_any_aggregate(node: Node, service: DatasetService) -> None:
    created = service.create(ADMIN, {"slug": "all-mr", "title": "All MR", "query": MR_COHORT})
    service.publish(ADMIN, created.id)
    exact = service.datasheet(ADMIN, created.id)
    sites = {
        b.value: b.count.value for d in exact.dimensions if d.name == "site" for b in d.buckets
    }
    assert sites == {"north": 9, "south": 11}
    assert exact.subjects.value == 20
    shown = service.datasheet(ANONYMOUS, created.id)
    site = next(d for d in shown.dimensions if d.name == "site")
    north = next(b for b in site.buckets if b.value == "north")
    assert north.count.suppressed and north.count.value is None and north.count.at_least == 6
    # one suppressed site beside a shown total would give it away: its neighbour is hidden too
    assert all(b.count.suppressed for b in site.buckets)
    strengths = next(d for d in exact.dimensions if d.name == "field_strength")
    assert {b.value for b in strengths.buckets} == {"3 T", "1.5 T", "unknown"}


def test_manifest_lists_only_visible_series_and_nothing_identifying(
    node: Node, service: DatasetService
) -> None:
    created = service.create(ADMIN, {"slug": "mf", "title": "Manifest", "query": MR_COHORT})
    service.publish(ADMIN, created.id)
    rows = list(csv.DictReader(io.StringIO(service.manifest(ANONYMOUS, created.id, "csv"))))
    assert len(rows) == 14 and {r["site"] for r in rows} == {"north"}
    assert all(r["access_url"].startswith("https://north.example.org/") for r in rows)
    assert {r["subject"] for r in rows} == {f"sub-{i:04d}" for i in range(1, 7)}
    researcher = Identity(subject="r@lab", roles=frozenset({"researcher"}))
    as_json = json.loads(service.manifest(researcher, created.id, "json"))
    assert len(as_json["series"]) == 24 and as_json["version"] == "1"
    everything = service.manifest(ADMIN, created.id, "json")
    for needle in ("-p0", "-p1", "pacs-", "age_years", "female", "male"):
        assert needle not in everything
