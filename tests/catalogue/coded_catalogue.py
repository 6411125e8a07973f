"""A small catalogue harvested through the ingest service with the ontology: two sources, brain
and chest series under several spellings, an unmapped body part, subjects with diagnoses."""

from __future__ import annotations

from catalogue.models import RunStatus
from catalogue.records import (
    CollectionRecord,
    Record,
    SeriesRecord,
    StudyRecord,
    SubjectRecord,
)
from catalogue.services.coding import CodingService
from catalogue.services.ingest import DeletionPolicy, IngestService
from catalogue.store import Store

SCT = "http://snomed.info/id/"
BRAIN, HEAD, CHEST = SCT + "12738006", SCT + "69536005", SCT + "816094009"
NECK, HEAD_AND_NECK = SCT + "45048000", SCT + "774007"

# (series native id, modality, body part, description) per source
SERIES = {
    "pacs": [
        ("a1", "MR", "BRAIN", "t1_mprage_sag_p2"),
        ("a2", "MR", "Brain", "AX FLAIR"),
        ("a3", "CT", "CHEST", "Thorax 1.0 B70f"),
        ("a4", "MR", "NACKENREGION", "t2_tse_tra"),  # "neck region": no label we hold
        ("a5", "MR", "Nackenregion", "t2_tse_sag"),
    ],
    "xnat": [
        ("b1", "MR", "NACKENREGION", "T2 AX"),
        ("b2", "MR", "brain ", "func-bold_task-rest_run-1"),
    ],
}


def records(source: str) -> list[Record]:
    """One collection; per series a subject and a study of its own."""
    out: list[Record] = [CollectionRecord(native_id="c", title=f"{source} collection")]
    for native_id, modality, body_part, description in SERIES[source]:
        subject = f"p-{native_id}"
        out += [
            SubjectRecord(
                native_id=subject,
                collection="c",
                species="Homo sapiens",
                diagnoses=("G35", "Tumefactive demyelination, odd spelling"),
            ),
            StudyRecord(native_id=f"st-{native_id}", collection="c", subject=subject, year=2021),
            SeriesRecord(
                native_id=native_id,
                collection="c",
                subject=subject,
                study=f"st-{native_id}",
                modality=modality,
                body_part=body_part,
                series_description=description,
                repetition_time_ms=2300.0 if "mprage" in description else None,
            ),
        ]
    return out


def harvest(store: Store, coding: CodingService | None, sources: tuple[str, ...] = ()) -> None:
    """Write each source's records through the ingest service, as the runner does."""
    store.ensure_site("local", "Local")
    ingest = IngestService(store, coding)
    for source in sources or tuple(SERIES):
        handle = ingest.start_run(source, "scripted", "local")
        assert ingest.write(handle, records(source)) == []
        ingest.finish(
            handle,
            status=RunStatus.SUCCEEDED,
            complete=False,
            seen={},
            cursor=None,
            failures=[],
            policy=DeletionPolicy(),
        )
