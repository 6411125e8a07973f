"""From the clean headers of one series to its subject, study and series records."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from catalogue.records import Cursor, SeriesRecord, StudyRecord, SubjectRecord
from harvesters.dicom.header import CleanHeader

SEGMENTATION = "1.2.840.10008.5.1.4.1.1.66.4"
RT_STRUCTURE_SET = "1.2.840.10008.5.1.4.1.1.481.3"
STRUCTURED_REPORT_PREFIX = "1.2.840.10008.5.1.4.1.1.88."

#: Acquisition parameters that may differ between the instances of one series (multi-echo, ...).
VARYING = (
    "echo_time_ms",
    "inversion_time_ms",
    "flip_angle_deg",
    "slice_thickness_mm",
    "repetition_time_ms",
)


def is_annotation(sop_class_uid: str) -> bool:
    return sop_class_uid in {SEGMENTATION, RT_STRUCTURE_SET} or sop_class_uid.startswith(
        STRUCTURED_REPORT_PREFIX
    )


def series_records(
    headers: Sequence[CleanHeader],
    *,
    collection: str,
    access_url: str | None = None,
    study_access_url: str | None = None,
    cursor: Cursor = None,
) -> tuple[SubjectRecord, StudyRecord, SeriesRecord]:
    """Records for one series from the clean headers of its instances (or one header per series,
    as QIDO-RS and C-FIND give). The first header gives single values; parameters that vary
    between instances are listed in `attributes["varying"]`, smallest value first."""
    if not headers:
        raise ValueError("a series needs at least one header")
    first = headers[0]
    sop_classes = tuple(sorted({h.sop_class_uid for h in headers if h.sop_class_uid}))
    varying: dict[str, list[Any]] = {}
    for name in VARYING:
        values = sorted({v for h in headers if (v := getattr(h, name)) is not None})
        if len(values) > 1:
            varying[name] = values
    common = {"deidentification_profile": first.profile, "cursor": cursor}
    subject = SubjectRecord(
        native_id=first.subject,
        collection=collection,
        sex=first.sex,
        species=first.species,
        strain=first.strain,
        **common,
    )
    study = StudyRecord(
        native_id=first.study,
        collection=collection,
        subject=first.subject,
        description=first.study_description,
        year=first.study_year,
        age_years=first.age_years,
        access_url=study_access_url,
        **common,
    )
    series = SeriesRecord(
        native_id=first.series,
        collection=collection,
        subject=first.subject,
        study=first.study,
        modality=first.modality,
        body_part=first.body_part,
        series_description=first.series_description,
        protocol_name=first.protocol_name,
        sequence_name=first.sequence_name,
        contrast_agent=first.contrast_agent,
        manufacturer=first.manufacturer,
        model_name=first.model_name,
        field_strength_t=first.field_strength_t,
        slice_thickness_mm=_smallest(headers, "slice_thickness_mm"),
        repetition_time_ms=_smallest(headers, "repetition_time_ms"),
        echo_time_ms=_smallest(headers, "echo_time_ms"),
        inversion_time_ms=_smallest(headers, "inversion_time_ms"),
        flip_angle_deg=_smallest(headers, "flip_angle_deg"),
        image_type=first.image_type,
        sop_class_uids=sop_classes,
        annotations=any(is_annotation(uid) for uid in sop_classes),
        instance_count=first.instance_count if first.instance_count is not None else len(headers),
        year=first.study_year,
        access_url=access_url,
        attributes={"varying": varying} if varying else {},
        **common,
    )
    return subject, study, series


def _smallest(headers: Sequence[CleanHeader], name: str) -> float | None:
    values = [v for h in headers if (v := getattr(h, name)) is not None]
    return min(values) if values else None
