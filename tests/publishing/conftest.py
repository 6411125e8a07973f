"""Two sites harvested into a store, indexed by the embedded engine, and a DataCite contract
server on loopback with one repository."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest

from catalogue.access import Identity
from catalogue.models import (
    CodedValue,
    Collection,
    HarvestRun,
    ImagingStudy,
    RunStatus,
    Series,
    Site,
    Source,
    Subject,
    Visibility,
)
from catalogue.publishing.datacite import DataCiteProvider
from catalogue.publishing.service import DatasetService
from catalogue.search.embedded import EmbeddedBackend
from catalogue.search.indexer import Indexer
from catalogue.search.service import SearchService
from catalogue.store import Store
from tests.publishing.datacite_server import DataCiteContract, serve

SHARED_DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
RECORDED = SHARED_DATA / "oai-pmh" / "datacite-viringo" / "tests" / "integration" / "fixtures"
ADMIN = Identity(subject="admin@consortium", roles=frozenset({"admin"}))
REPOSITORY, PASSWORD, PREFIX = "imaging.catalogue", "s3cret-pass", "10.80001"
FROZEN = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@dataclass
class Node:
    store: Store
    search: SearchService
    runs: dict[str, uuid.UUID] = field(default_factory=dict)
    collections: dict[str, uuid.UUID] = field(default_factory=dict)


# site → collection → (visibility, subjects); every subject has one study with an MR T1w and a
# FLAIR at the site's field strength, and every third a SEG
LAYOUT = {
    "north": {"north-brain": (Visibility.PUBLIC, 6), "north-counts": (Visibility.AGGREGATE, 3)},
    "south": {
        "south-brain": (Visibility.REGISTERED, 4),
        "south-counts": (Visibility.AGGREGATE, 7),
        "south-private": (Visibility.PRIVATE, 2),
    },
}
STRENGTH = {"north": 3.0, "south": 1.5}


def seed(store: Store) -> Node:
    node = Node(store=store, search=None)  # type: ignore[arg-type]
    for slug, collections in LAYOUT.items():
        with store.session() as session:
            site = Site(slug=slug, name=f"{slug.title()} University Hospital")
            session.add(site)
            session.flush()
            source = Source(name=f"pacs-{slug}", kind="dicom-folder", site_id=site.id)
            session.add(source)
            session.flush()
            run = HarvestRun(source_id=source.id, status=RunStatus.SUCCEEDED, complete=True)
            session.add(run)
            session.flush()
            node.runs[slug] = run.id
            for name, (visibility, subjects) in collections.items():
                coll = _collection(session, site, source, run, name, visibility)
                node.collections[name] = coll.id
                for i in range(subjects):
                    _subject(session, slug, source, run, coll, i)
    return node


def _collection(session, site, source, run, name, visibility):  # type: ignore[no-untyped-def]
    coll = Collection(
        site_id=site.id, source_id=source.id, native_id=name, title=name.replace("-", " "),
        visibility=visibility, first_seen_run_id=run.id, last_seen_run_id=run.id,
        access_url=f"https://{site.slug}.example.org/xnat/{name}",
    )  # fmt: skip
    session.add(coll)
    session.flush()
    return coll


def _subject(session, slug, source, run, coll, i):  # type: ignore[no-untyped-def]
    prov = {"source_id": source.id, "first_seen_run_id": run.id, "last_seen_run_id": run.id}
    subject = Subject(
        collection_id=coll.id, native_id=f"{coll.native_id}-p{i}",
        sex="female" if i % 2 else "male", **prov,
    )  # fmt: skip
    session.add(subject)
    session.flush()
    study = ImagingStudy(
        subject_id=subject.id, collection_id=coll.id, native_id=f"{subject.native_id}-s1",
        year=2024, age_years=30.0 + 7 * i, **prov,
    )  # fmt: skip
    session.add(study)
    session.flush()
    kinds = [("MR", "T1w"), ("MR", "FLAIR")] + ([("SEG", None)] if i % 3 == 0 else [])
    for n, (modality, sequence) in enumerate(kinds):
        series = Series(
            study_id=study.id, subject_id=subject.id, collection_id=coll.id,
            native_id=f"{study.native_id}-{n}", modality=modality,
            manufacturer="Siemens" if slug == "north" else "GE",
            field_strength_t=STRENGTH[slug] if modality == "MR" else None,
            annotations=modality == "SEG", year=2024, instance_count=176,
            series_description=f"{sequence or 'segmentation'} series",
            access_url=f"https://{slug}.example.org/dicomweb/series/{n}-{i}", **prov,
        )  # fmt: skip
        session.add(series)
        session.flush()
        if sequence:
            session.add(
                CodedValue(
                    entity_type="series",
                    entity_id=series.id,
                    field="sequence_type",
                    original_value=sequence,
                    label=sequence,
                    concept_iri=f"https://example.org/seq/{sequence}",
                )
            )


@pytest.fixture
def node(store: Store, tmp_path: Path) -> Iterator[Node]:
    node = seed(store)
    backend = EmbeddedBackend(tmp_path / "search")
    Indexer(store, backend).rebuild()
    node.search = SearchService(store, backend, 5)
    yield node
    backend.close()


@pytest.fixture
def contract() -> DataCiteContract:
    contract = DataCiteContract()
    contract.add_repository(REPOSITORY, PASSWORD, PREFIX)
    contract.add_repository("other.repository", "other-pass", "10.80002")
    return contract


@pytest.fixture
def datacite_url(contract: DataCiteContract) -> Iterator[str]:
    with serve(contract) as url:
        yield url


@pytest.fixture
def provider(datacite_url: str) -> Iterator[DataCiteProvider]:
    provider = DataCiteProvider(datacite_url, REPOSITORY, PASSWORD, PREFIX, timeout=5)
    yield provider
    provider.close()


@pytest.fixture
def service(node: Node, provider: DataCiteProvider) -> DatasetService:
    return DatasetService(
        node.store, node.search, provider, publisher="Imaging Consortium", clock=lambda: FROZEN
    )


def recorded(name: str) -> dict[str, object]:
    return json.loads((RECORDED / name).read_text())  # type: ignore[no-any-return]
