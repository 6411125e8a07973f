"""The DataCite attributes of a concept DOI and of each version's DOI, from the dataset's
descriptive metadata (`Dataset.meta`) and its versions.

A version points to its concept (`IsVersionOf`) and its neighbours (`IsNewVersionOf`,
`IsPreviousVersionOf`); the concept lists every published version (`HasVersion`).
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from catalogue.models import Dataset, DatasetVersion
from catalogue.publishing.metadata import version_relation, without_version_relations

#: set per DOI here, never copied from one DOI's metadata to another's
PER_DOI = ("doi", "url", "identifiers", "version", "dates", "sizes", "relatedIdentifiers")
TYPES = {"resourceTypeGeneral": "Dataset", "resourceType": "Imaging metadata collection"}
_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # Crockford base32, lower case


def mint_suffix() -> str:
    """A DataCite-style random suffix, `xxxx-xxxx`."""
    chars = "".join(secrets.choice(_ALPHABET) for _ in range(8))
    return f"ic-{chars[:4]}-{chars[4:]}"


def version_doi(concept_doi: str, version: str) -> str:
    return f"{concept_doi}.v{version}"


def descriptive(meta: Mapping[str, Any]) -> dict[str, Any]:
    """The curator's part of the metadata: everything but the per-DOI properties."""
    out = {k: v for k, v in meta.items() if k not in PER_DOI}
    out["relatedIdentifiers"] = without_version_relations(meta)
    return out


def base(dataset: Dataset, publisher: str, year: int) -> dict[str, Any]:
    """Defaults a new dataset starts from."""
    return {
        "titles": [{"title": dataset.title}],
        "descriptions": (
            [{"description": dataset.description, "descriptionType": "Abstract"}]
            if dataset.description
            else []
        ),
        "creators": [],
        "publisher": publisher,
        "publicationYear": year,
        "types": dict(TYPES),
        "subjects": [],
        "relatedIdentifiers": [],
    }


def concept_attributes(
    dataset: Dataset, published: Sequence[DatasetVersion], year: int
) -> dict[str, Any]:
    out = descriptive(dataset.meta)
    first = min((v.published_at for v in published if v.published_at), default=None)
    out["publicationYear"] = first.year if first else year
    out["doi"] = dataset.concept_doi
    out["url"] = dataset.iri
    out["relatedIdentifiers"] = out["relatedIdentifiers"] + [
        version_relation(v.doi, "HasVersion") for v in published if v.doi
    ]
    if published:
        out["version"] = published[-1].version
    return out


def version_attributes(
    dataset: Dataset,
    version: DatasetVersion,
    neighbours: tuple[DatasetVersion | None, DatasetVersion | None],
    sizes: list[str],
    now: datetime,
) -> dict[str, Any]:
    """A version's attributes: its own frozen descriptive metadata once published, else the
    dataset's current metadata."""
    source = version.meta if version.published_at else dataset.meta
    out = descriptive(source)
    issued = version.published_at or now
    out["publicationYear"] = issued.year
    out["doi"] = version.doi
    out["url"] = version.iri
    out["version"] = version.version
    out["dates"] = [{"date": issued.date().isoformat(), "dateType": "Issued"}]
    out["sizes"] = sizes
    previous, following = neighbours
    relations = out["relatedIdentifiers"]
    if dataset.concept_doi:
        relations.append(version_relation(dataset.concept_doi, "IsVersionOf"))
    if previous is not None and previous.doi:
        relations.append(version_relation(previous.doi, "IsNewVersionOf"))
    if following is not None and following.doi and following.published_at:
        relations.append(version_relation(following.doi, "IsPreviousVersionOf"))
    return out
