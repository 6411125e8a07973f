"""Metadata checks (ORCID, ROR, SPDX, relation types) and who may curate datasets."""

from __future__ import annotations

import pytest

from catalogue.access import ANONYMOUS, Identity
from catalogue.errors import (
    AuthenticationError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)
from catalogue.publishing.metadata import MetadataPatch, apply_patch, parse_patch
from catalogue.publishing.service import DatasetService
from tests.publishing.conftest import ADMIN, Node


@pytest.mark.parametrize(
    ("patch", "location"),
    [
        ({"creators": [{"name": "A", "orcid": "0000-0003-1419-2406"}]}, "creators[0].orcid"),
        ({"creators": [{"name": "A", "affiliations": [{"name": "X", "ror": "nope"}]}]},
         "creators[0].affiliations[0].ror"),
        ({"license": "CC-BY-5.0"}, "license"),
        ({"funding": [{"funder_name": "F", "funder_ror": "https://ror.org/!!"}]},
         "funding[0].funder_ror"),
        ({"related": [{"identifier": "10.1234/x", "relation_type": "IsVersionOf"}]},
         "related[0].relation_type"),
        ({"related": [{"identifier": "not an id", "relation_type": "Cites"}]},
         "related[0].identifier"),
        ({"contributors": [{"name": "B", "contributor_type": "Boss"}]},
         "contributors[0].contributor_type"),
        ({"titles": []}, "titles"),
        ({"colour": "blue"}, "colour"),
    ],
)  # fmt: skip
def test_bad_metadata_is_located(patch: dict[str, object], location: str) -> None:
    with pytest.raises(ValidationError) as refused:
        parse_patch(patch)
    assert location in [d.location for d in refused.value.details]


def test_patch_writes_datacite_attributes_and_keeps_the_rest() -> None:
    meta = {"titles": [{"title": "Old"}], "publisher": "P", "subjects": [{"subject": "kept"}]}
    patch = parse_patch(
        {
            "creators": [{"name": "Doe, Jo", "orcid": "https://orcid.org/0000-0002-1825-0097",
                          "affiliations": [{"name": "DataCite", "ror": "04wxnsj81"}]}],
            "subjects": [{"label": "Brain", "iri": "http://snomed.info/id/12738006"}],
            "related": [{"identifier": "https://doi.org/10.5438/PRVV-NV23",
                         "relation_type": "IsSupplementTo"}],
            "license": "Apache-2.0",
        }
    )  # fmt: skip
    out = apply_patch(meta, patch)
    assert out["titles"] == [{"title": "Old"}] and out["publisher"] == "P"
    person = out["creators"][0]
    assert person["nameIdentifiers"][0]["nameIdentifier"] == "https://orcid.org/0000-0002-1825-0097"
    assert person["affiliation"][0]["affiliationIdentifier"] == "https://ror.org/04wxnsj81"
    assert out["subjects"] == [
        {"subject": "kept"},
        {"subject": "Brain", "valueUri": "http://snomed.info/id/12738006"},
    ]
    assert out["relatedIdentifiers"][0]["relatedIdentifierType"] == "DOI"
    assert out["rightsList"][0]["rightsIdentifierScheme"] == "SPDX"
    assert isinstance(patch, MetadataPatch)


def test_only_admins_curate_and_drafts_stay_private(node: Node, service: DatasetService) -> None:
    spec = {"slug": "x", "title": "X", "members": []}
    with pytest.raises(AuthenticationError):
        service.create(ANONYMOUS, spec)
    with pytest.raises(PermissionDeniedError):
        service.create(Identity(subject="r", roles=frozenset({"researcher"})), spec)
    with pytest.raises(ValidationError):
        service.create(ADMIN, spec)  # neither members nor a query
    hits = node.search.search(ADMIN, {"kind": "series", "size": 3, "sort": [{"field": "year"}]})
    subject = node.search.search(ADMIN, {"kind": "subjects", "size": 1})
    iris = [h.iri for h in hits.hits] + [subject.hits[0].iri]
    created = service.create(ADMIN, {"slug": "picked", "title": "Picked", "members": iris})
    assert (
        created.versions[0].members + sum(c.series or 0 for c in created.versions[0].counted) >= 3
    )
    with pytest.raises(ConflictError):
        service.create(ADMIN, {"slug": "picked", "title": "Again", "members": iris})
    with pytest.raises(NotFoundError):
        service.show(ANONYMOUS, created.id)
    with pytest.raises(NotFoundError):
        service.create(ADMIN, {"slug": "ghost", "title": "G", "members": ["http://node.test/x"]})


def test_access_conditions_name_known_sites(node: Node, service: DatasetService) -> None:
    metadata = {"access_conditions": [
        {"site": "north", "who": "anyone approved", "how": "ask"},
        {"site": "atlantis", "who": "nobody", "how": "never"},
    ]}  # fmt: skip
    query = {"filter": {"op": "term", "field": "site", "value": "north"}}
    with pytest.raises(ValidationError) as refused:
        service.create(ADMIN, {"slug": "s", "title": "S", "query": query, "metadata": metadata})
    assert [d.location for d in refused.value.details] == ["access_conditions[1].site"]
