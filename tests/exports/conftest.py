"""A published dataset with two versions, written directly to the store (SQLite and PostgreSQL),
and validators built from the official schemas and shapes in `../shared/data/` (no network)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from catalogue.exports.view import Node
from catalogue.models import Dataset, DatasetVersion, DoiState
from catalogue.models.publishing import DatasetCuration
from catalogue.store import Store
from tests.conftest import SHARED_DATA

ACCESS = [
    {
        "site": "north-hospital",
        "who": "Researchers at consortium members.",
        "how": "Apply to the data access committee; a data use agreement is required.",
        "contact": "https://north.example/dac",
    },
    {
        "site": "south-lab",
        "who": "Collaborators of the imaging lab.",
        "how": "A collaboration agreement.",
        "contact": "imaging@south.example",
    },
]
NODE = Node(base_url="http://node.test", name="Imaging Catalogue Test Node")
DATACITE = SHARED_DATA / "datacite"
KERNEL_45_XSD = DATACITE / "datacite-schema" / "source" / "meta" / "kernel-4.5" / "metadata.xsd"
DATACITE_45_JSON = DATACITE / "pypi-datacite-1.4.1" / "schemas" / "datacite-v4.5.json"
DCAT_AP = SHARED_DATA / "dcat-ap" / "SEMICeu-DCAT-AP-3.0.1" / "releases" / "3.0.1"
GOOGLE_REQUIRED = (
    SHARED_DATA / "schemaorg" / "science-on-schema.org" / "validation" / "shapegraphs"
    / "googleRequired.ttl"
)  # fmt: skip
OAI_PMH_XSD = SHARED_DATA / "oai-pmh" / "OAI-PMH.xsd"

META: dict[str, Any] = {
    "titles": [{"title": "Glioma MRI across two sites", "lang": "en"}],
    "creators": [
        {
            "name": "Curie, Marie",
            "nameType": "Personal",
            "givenName": "Marie",
            "familyName": "Curie",
            "nameIdentifiers": [
                {
                    "nameIdentifier": "https://orcid.org/0000-0002-1825-0097",
                    "nameIdentifierScheme": "ORCID",
                    "schemeUri": "https://orcid.org",
                }
            ],
            "affiliation": [
                {
                    "name": "Example University Hospital",
                    "affiliationIdentifier": "https://ror.org/03yrm5c26",
                    "affiliationIdentifierScheme": "ROR",
                    "schemeUri": "https://ror.org",
                }
            ],
        }
    ],
    "publisher": {"name": "Glioma Imaging Consortium"},
    "publicationYear": "2026",
    "types": {"resourceTypeGeneral": "Dataset", "resourceType": "Imaging metadata"},
    "subjects": [
        {"subject": "glioma"},
        {
            "subject": "Magnetic resonance imaging",
            "subjectScheme": "DICOM",
            "valueUri": "http://dicom.nema.org/resources/ontology/DCM/MR",
        },
    ],
    "rightsList": [
        {
            "rights": "Creative Commons Attribution 4.0 International",
            "rightsUri": "https://creativecommons.org/licenses/by/4.0/legalcode",
            "rightsIdentifier": "cc-by-4.0",
            "rightsIdentifierScheme": "SPDX",
        }
    ],
    "descriptions": [
        {
            "description": "Pre- and post-contrast T1, T2 and FLAIR series of adult glioma "
            "patients imaged at 1.5 T and 3 T at two university hospitals.",
            "descriptionType": "Abstract",
        }
    ],
    "fundingReferences": [
        {
            "funderName": "European Commission",
            "funderIdentifier": "https://doi.org/10.13039/501100000780",
            "funderIdentifierType": "Crossref Funder ID",
            "awardNumber": "101057699",
        }
    ],
    "relatedIdentifiers": [
        {
            "relatedIdentifier": "10.1000/paper.2025.1",
            "relatedIdentifierType": "DOI",
            "relationType": "IsDescribedBy",
        }
    ],
    "curatorNote": "not a DataCite property: never exported",
}


def publish(
    store: Store,
    *,
    slug: str = "glioma-mri",
    versions: int = 2,
    deleted: bool = False,
    meta: dict[str, Any] | None = None,
) -> tuple[Dataset, list[DatasetVersion]]:
    """A findable dataset with `versions` findable versions, written straight to the store."""
    meta = meta or META
    with store.session() as session:
        dataset = Dataset(
            slug=slug,
            title=meta["titles"][0]["title"],
            description=meta["descriptions"][0]["description"],
            state=DoiState.FINDABLE,
            concept_doi=f"10.80001/{slug}",
            meta=meta,
        )
        session.add(dataset)
        session.flush()
        tombstone = datetime(2026, 11, 1, tzinfo=UTC) if deleted else None
        session.add(
            DatasetCuration(
                dataset_id=dataset.id,
                access_conditions=ACCESS,
                tombstoned_at=tombstone,
                tombstone_reason="Withdrawn at the request of a site." if deleted else None,
            )
        )
        rows = [
            DatasetVersion(
                dataset_id=dataset.id,
                version=f"{n}.0",
                doi=f"10.80001/{slug}.v{n}",
                state=DoiState.FINDABLE,
                published_at=datetime(2026, n, 15, tzinfo=UTC),
                meta=meta,
                members=[f"http://node.test/id/series/{n}-{i}" for i in range(3 * n)],
            )
            for n in range(1, versions + 1)
        ]
        session.add_all(rows)
    return dataset, rows


@pytest.fixture
def published(store: Store) -> tuple[Dataset, list[DatasetVersion]]:
    return publish(store)


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[Store]:
    """For the serialisers, which read a view and never the database: SQLite is enough."""
    store = Store(f"sqlite:///{tmp_path / 'serialisers.db'}", "http://node.test")
    store.upgrade()
    yield store
    store.dispose()


@pytest.fixture
def sample(sqlite_store: Store) -> tuple[Dataset, list[DatasetVersion]]:
    return publish(sqlite_store)


@cache
def xml_schema(path: Path) -> etree.XMLSchema:
    """An XSD loaded from local files only (imports resolve next to it; no network)."""
    parser = etree.XMLParser(no_network=True, resolve_entities=False)
    return etree.XMLSchema(etree.parse(str(path), parser))


@cache
def datacite_json_schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(DATACITE_45_JSON.read_text())
    return schema
