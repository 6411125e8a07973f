"""`CleanHeader`: the only shape in which DICOM header data leaves de-identification.

It holds nothing that identifies a patient: keyed pseudonyms instead of identifiers and UIDs,
years and ages instead of dates, allow-listed and screened free text.
"""

from __future__ import annotations

from dataclasses import dataclass

from catalogue.models import Sex


@dataclass(frozen=True)
class CleanHeader:
    profile: str  # version of the de-identification profile that produced it
    subject: str  # keyed pseudonym of PatientID (HMAC, per-site secret)
    study: str  # keyed pseudonym of StudyInstanceUID
    series: str  # keyed pseudonym of SeriesInstanceUID
    sex: Sex = Sex.UNKNOWN
    age_years: float | None = None  # at the study, from PatientAge or birth and study dates
    study_year: int | None = None
    study_description: str | None = None
    modality: str | None = None
    body_part: str | None = None
    series_description: str | None = None
    protocol_name: str | None = None
    sequence_name: str | None = None
    contrast_agent: bool | None = None  # a contrast/bolus agent was recorded
    manufacturer: str | None = None
    model_name: str | None = None
    field_strength_t: float | None = None
    slice_thickness_mm: float | None = None
    repetition_time_ms: float | None = None
    echo_time_ms: float | None = None
    inversion_time_ms: float | None = None
    flip_angle_deg: float | None = None
    image_type: tuple[str, ...] = ()
    sop_class_uid: str | None = None
    instance_count: int | None = None  # when the source states it (QIDO, C-FIND)
    species: str | None = None
    strain: str | None = None
