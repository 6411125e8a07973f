"""A dataset version's manifest for machine-learning batches: one row per member series the
caller may see records of, with its access address at the site and the fields a loader needs.

Nothing identifies a patient: subjects and studies appear as ordinals local to the manifest
(`sub-0001`, `ses-01`), never as pseudonyms or IRIs; no age, sex or date finer than a year.
"""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections.abc import Sequence
from typing import Any, Literal

from catalogue.publishing.members import SeriesRow

COLUMNS = (
    "series", "collection", "site", "subject", "session", "access_url", "modality",
    "body_part", "sequence_type", "series_description", "manufacturer", "model_name",
    "field_strength_t", "slice_thickness_mm", "repetition_time_ms", "echo_time_ms",
    "inversion_time_ms", "flip_angle_deg", "contrast_agent", "annotations", "instance_count",
    "year",
)  # fmt: skip
ManifestFormat = Literal["csv", "json"]


def manifest_rows(rows: Sequence[SeriesRow]) -> list[dict[str, Any]]:
    subjects: dict[uuid.UUID, str] = {}
    sessions: dict[uuid.UUID, dict[uuid.UUID, str]] = {}
    out = []
    for row in rows:
        subject = subjects.setdefault(row.subject_id, f"sub-{len(subjects) + 1:04d}")
        studies = sessions.setdefault(row.subject_id, {})
        session = studies.setdefault(row.study_id, f"ses-{len(studies) + 1:02d}")
        fields = row.fields
        out.append(
            {
                "series": row.iri,
                "collection": row.collection_iri,
                "site": row.site,
                "subject": subject,
                "session": session,
                **{name: fields.get(name) for name in COLUMNS[6:]},
                "access_url": fields.get("access_url") or fields.get("study_access_url"),
            }
        )
    return out


def render(rows: list[dict[str, Any]], header: dict[str, Any], fmt: ManifestFormat) -> str:
    if fmt == "json":
        return json.dumps({**header, "series": rows}, indent=1, sort_keys=False)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    writer.writerows([_cell(row[k]) for k in COLUMNS] for row in rows)
    return buffer.getvalue()


def _cell(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value  # never a formula when opened in a spreadsheet
    return "" if value is None else value
