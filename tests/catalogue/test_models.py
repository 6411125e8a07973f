"""The domain model on a real store (SQLite and PostgreSQL)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from sqlmodel import col, select

from catalogue.models import (
    CodedValue,
    Collection,
    Dataset,
    DatasetVersion,
    ImagingStudy,
    MappingMethod,
    OutboxEntry,
    OutboxOp,
    Series,
    Sex,
    Source,
    Subject,
    Visibility,
)
from catalogue.store import Store


def _source(store: Store) -> Source:
    site = store.ensure_site("site-a", "Site A")
    with store.session() as session:
        source = Source(name=f"src-{uuid.uuid4().hex[:6]}", kind="dicom-folder", site_id=site.id)
        session.add(source)
    return source


def _tree(store: Store) -> tuple[Source, Collection, Subject, ImagingStudy, Series]:
    source = _source(store)
    with store.session() as session:
        collection = Collection(
            source_id=source.id,
            native_id="proj-1",
            site_id=source.site_id,
            title="Project 1",
            visibility=Visibility.AGGREGATE,
        )
        subject = Subject(
            source_id=source.id,
            native_id="pseudo-1",
            collection_id=collection.id,
            sex=Sex.FEMALE,
            birth_year=1980,
        )
        study = ImagingStudy(
            source_id=source.id,
            native_id="study-1",
            subject_id=subject.id,
            collection_id=collection.id,
            year=2021,
            age_years=41.0,
        )
        series = Series(
            source_id=source.id,
            native_id="series-1",
            study_id=study.id,
            subject_id=subject.id,
            collection_id=collection.id,
            modality="MR",
            body_part="BRAIN",
            field_strength_t=3.0,
            image_type=["ORIGINAL", "PRIMARY"],
            attributes={"MRAcquisitionType": "3D"},
        )
        for record in (collection, subject, study, series):  # parents first: no ORM relationships
            session.add(record)
            session.flush()
    return source, collection, subject, study, series


def test_records_get_stable_iris_under_the_base(store: Store) -> None:
    _, collection, _, _, series = _tree(store)
    assert collection.iri == f"http://node.test/id/collection/{collection.id}"
    assert series.iri == f"http://node.test/id/series/{series.id}"
    with store.session() as session:
        stored = session.get(Series, series.id)
        assert stored is not None
        stored.series_description = "t1_mprage"
    with store.session() as session:
        again = session.get(Series, series.id)
        assert again is not None and again.iri == series.iri


def test_natural_key_is_unique_per_source(store: Store) -> None:
    source, *_ = _tree(store)
    with pytest.raises(sa.exc.IntegrityError), store.session() as session:
        session.add(
            Collection(
                source_id=source.id, native_id="proj-1", site_id=source.site_id, title="duplicate"
            )
        )
    other = _source(store)
    with store.session() as session:  # the same native id from another source is another record
        session.add(
            Collection(
                source_id=other.id, native_id="proj-1", site_id=other.site_id, title="elsewhere"
            )
        )


def test_round_trip_keeps_types(store: Store) -> None:
    *_, series = _tree(store)
    with store.session() as session:
        stored = session.get(Series, series.id)
        assert stored is not None
        assert stored.image_type == ["ORIGINAL", "PRIMARY"]
        assert stored.attributes == {"MRAcquisitionType": "3D"}
        assert stored.field_strength_t == 3.0
        assert stored.created_at.tzinfo is not None
        collection = session.get(Collection, series.collection_id)
        assert collection is not None and collection.visibility is Visibility.AGGREGATE


def test_naive_timestamps_are_refused(store: Store) -> None:
    source = _source(store)
    with pytest.raises(sa.exc.StatementError), store.session() as session:
        session.add(
            Collection(
                source_id=source.id,
                native_id="p",
                site_id=source.site_id,
                title="t",
                deleted_at=datetime(2024, 1, 1),
            )
        )


def test_outbox_rows_are_written_in_the_same_transaction(store: Store) -> None:
    *_, series = _tree(store)
    with store.session() as session:
        kinds = session.exec(select(OutboxEntry.entity_type).order_by(col(OutboxEntry.id))).all()
    assert kinds == ["collection", "subject", "imaging_study", "series"]

    with store.session() as session:
        stored = session.get(Series, series.id)
        assert stored is not None
        stored.deleted_at = datetime.now(UTC)
    with pytest.raises(RuntimeError), store.session() as session:
        stored = session.get(Series, series.id)
        assert stored is not None
        stored.modality = "CT"
        session.flush()
        raise RuntimeError("the unit of work fails after flushing")
    with store.session() as session:
        entries = session.exec(select(OutboxEntry).order_by(col(OutboxEntry.id))).all()
        assert [(e.entity_type, e.op) for e in entries][-1] == ("series", OutboxOp.UPSERT)
        assert len(entries) == 5  # the rolled-back change left no outbox row
        assert session.get(Series, series.id).modality == "MR"  # type: ignore[union-attr]

    with store.session() as session:
        session.delete(session.get(Series, series.id))
    with store.session() as session:
        last = session.exec(select(OutboxEntry).order_by(col(OutboxEntry.id).desc())).first()
        assert last is not None and last.op is OutboxOp.DELETE and last.entity_id == series.id


def test_unchanged_records_queue_nothing(store: Store) -> None:
    *_, series = _tree(store)
    with store.session() as session:
        stored = session.get(Series, series.id)
        assert stored is not None
        stored.modality = "MR"  # same value: not a change
    with store.session() as session:
        assert len(session.exec(select(OutboxEntry)).all()) == 4


def test_coded_values_keep_original_and_concept(store: Store) -> None:
    *_, series = _tree(store)
    with store.session() as session:
        session.add(
            CodedValue(
                entity_type="series",
                entity_id=series.id,
                field="body_part",
                original_value="BRAIN",
                concept_iri="http://snomed.info/id/12738006",
                scheme="SCT",
                code="12738006",
                label="Brain",
                method=MappingMethod.EXACT_CODE,
                confidence=1.0,
                ancestors=["http://snomed.info/id/69536005"],
            )
        )
    with store.session() as session:
        coded = session.exec(select(CodedValue).where(CodedValue.original_value == "BRAIN")).one()
        assert coded.method is MappingMethod.EXACT_CODE
        assert coded.ancestors == ["http://snomed.info/id/69536005"]


def test_datasets_have_versions(store: Store) -> None:
    with store.session() as session:
        dataset = Dataset(slug="ms-cohort", title="MS cohort", meta={"creators": []})
        session.add(dataset)
        session.add(DatasetVersion(dataset_id=dataset.id, version="1", members=["http://x/1"]))
    with pytest.raises(sa.exc.IntegrityError), store.session() as session:
        session.add(DatasetVersion(dataset_id=dataset.id, version="1"))
