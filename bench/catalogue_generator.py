"""A synthetic multi-site imaging catalogue with skewed, realistic distributions.

`generate()` returns plain Python records (sites → collections → subjects → studies → series,
with coded values whose concepts carry made-up but realistic IRIs and ancestor closures);
`load()` writes them into a migrated store with bulk inserts. The tests compute true cohort counts
from these records directly; the benchmark loads 10 sites / 100,000 subjects / ~300,000 studies /
~1,000,000 series (`generate(subjects=100_000)`).
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from catalogue.models import (
    CodedValue,
    Collection,
    ImagingStudy,
    Series,
    Site,
    Source,
    Subject,
)
from catalogue.store import Store

DCM = "http://dicom.nema.org/resources/ontology/DCM/"
SCT = "http://snomed.info/id/"
SEQ = "https://w3id.org/imaging-catalogue/sequence/"
ICD = "http://purl.bioontology.org/ontology/ICD10/"
TAX = "http://purl.obolibrary.org/obo/NCBITaxon_"
LOCAL = "https://w3id.org/imaging-catalogue/"

# concept IRI → (label, parent IRI or None): a small tree per coded field
ONTOLOGY: dict[str, tuple[str, str | None]] = {
    LOCAL + "modality": ("imaging modality", None),
    LOCAL + "modality/acquired": ("acquired image", LOCAL + "modality"),
    LOCAL + "modality/derived": ("derived object", LOCAL + "modality"),
    DCM + "MR": ("Magnetic Resonance", LOCAL + "modality/acquired"),
    DCM + "CT": ("Computed Tomography", LOCAL + "modality/acquired"),
    DCM + "PT": ("Positron emission tomography", LOCAL + "modality/acquired"),
    DCM + "SEG": ("Segmentation", LOCAL + "modality/derived"),
    SCT + "123037004": ("Body structure", None),
    SCT + "69536005": ("Head structure", SCT + "123037004"),
    SCT + "12738006": ("Brain structure", SCT + "69536005"),
    SCT + "51185008": ("Thoracic structure", SCT + "123037004"),
    SCT + "39607008": ("Lung structure", SCT + "51185008"),
    SCT + "113345001": ("Abdominal structure", SCT + "123037004"),
    SCT + "10200004": ("Liver structure", SCT + "113345001"),
    SCT + "72696002": ("Knee region structure", SCT + "123037004"),
    SEQ + "mr": ("MR sequence", None),
    SEQ + "anatomical": ("anatomical", SEQ + "mr"),
    SEQ + "T1w": ("T1-weighted", SEQ + "anatomical"),
    SEQ + "T2w": ("T2-weighted", SEQ + "anatomical"),
    SEQ + "FLAIR": ("fluid-attenuated inversion recovery", SEQ + "T2w"),
    SEQ + "diffusion": ("diffusion", SEQ + "mr"),
    SEQ + "dwi": ("diffusion-weighted", SEQ + "diffusion"),
    SEQ + "dti": ("diffusion tensor", SEQ + "dwi"),
    SEQ + "bold": ("BOLD", SEQ + "mr"),
    SEQ + "swi": ("susceptibility-weighted", SEQ + "mr"),
    ICD + "VI": ("Diseases of the nervous system", None),
    ICD + "G35-G37": ("Demyelinating diseases of the central nervous system", ICD + "VI"),
    ICD + "G35": ("Multiple sclerosis", ICD + "G35-G37"),
    ICD + "G30-G32": ("Other degenerative diseases of the nervous system", ICD + "VI"),
    ICD + "G30": ("Alzheimer disease", ICD + "G30-G32"),
    ICD + "G30.0": ("Alzheimer disease with early onset", ICD + "G30"),
    ICD + "G30.1": ("Alzheimer disease with late onset", ICD + "G30"),
    ICD + "G40-G47": ("Episodic and paroxysmal disorders", ICD + "VI"),
    ICD + "G40": ("Epilepsy", ICD + "G40-G47"),
    ICD + "II": ("Neoplasms", None),
    ICD + "C71": ("Malignant neoplasm of brain", ICD + "II"),
    ICD + "IX": ("Diseases of the circulatory system", None),
    ICD + "I63": ("Cerebral infarction", ICD + "IX"),
    TAX + "40674": ("Mammalia", None),
    TAX + "9606": ("Homo sapiens", TAX + "40674"),
    TAX + "10090": ("Mus musculus", TAX + "40674"),
}
# raw value a site sends → concept (None: unmapped, waits for curation)
BODY_PARTS = {"BRAIN": SCT + "12738006", "HEAD": SCT + "69536005", "CHEST": SCT + "51185008",
              "LUNG": SCT + "39607008", "ABDOMEN": SCT + "113345001", "LIVER": SCT + "10200004",
              "KNEE": SCT + "72696002", "HEADNECK": None}  # fmt: skip
SEQUENCES = {"t1_mprage": SEQ + "T1w", "T2 TSE": SEQ + "T2w", "AX FLAIR": SEQ + "FLAIR",
             "ep2d_diff": SEQ + "dwi", "DTI_64dir": SEQ + "dti", "bold_rest": SEQ + "bold",
             "swi_3d": SEQ + "swi", "localizer": None}  # fmt: skip
DIAGNOSES = {"G35": ICD + "G35", "G30.0": ICD + "G30.0", "G30.1": ICD + "G30.1",
             "G40": ICD + "G40", "C71": ICD + "C71", "I63": ICD + "I63", "R51": None}  # fmt: skip
SPECIES = {"Homo sapiens": TAX + "9606", "Mus musculus": TAX + "10090"}
MANUFACTURERS = {
    "SIEMENS": ["Prisma", "Skyra", "Aera"],
    "GE MEDICAL SYSTEMS": ["Discovery MR750", "SIGNA Premier"],
    "Philips": ["Achieva", "Ingenia"],
}


def ancestors(iri: str) -> list[str]:
    out, parent = [], ONTOLOGY[iri][1]
    while parent is not None:
        out.append(parent)
        parent = ONTOLOGY[parent][1]
    return out


@dataclass(slots=True)
class GenSeries:
    id: uuid.UUID
    modality: str
    body_part: str | None
    sequence: str | None  # raw sequence type (MR only)
    description: str
    manufacturer: str | None
    model_name: str | None
    field_strength_t: float | None
    slice_thickness_mm: float | None
    repetition_time_ms: float | None
    echo_time_ms: float | None
    inversion_time_ms: float | None
    flip_angle_deg: float | None
    contrast_agent: bool | None
    image_type: list[str]
    annotations: bool
    instance_count: int
    year: int


@dataclass(slots=True)
class GenStudy:
    id: uuid.UUID
    description: str | None
    year: int
    age_years: float | None
    series: list[GenSeries] = field(default_factory=list)


@dataclass(slots=True)
class GenSubject:
    id: uuid.UUID
    sex: str
    birth_year: int | None
    group: str | None
    species: str
    strain: str | None
    diagnoses: list[str]
    first_seen: datetime
    studies: list[GenStudy] = field(default_factory=list)


@dataclass(slots=True)
class GenCollection:
    id: uuid.UUID
    title: str
    description: str
    visibility: str
    subjects: list[GenSubject] = field(default_factory=list)


@dataclass(slots=True)
class GenSite:
    id: uuid.UUID
    slug: str
    name: str
    collections: list[GenCollection] = field(default_factory=list)


@dataclass
class Catalogue:
    sites: list[GenSite]

    def collections(self) -> Iterator[tuple[GenSite, GenCollection]]:
        for site in self.sites:
            for coll in site.collections:
                yield site, coll

    def subjects(self) -> Iterator[tuple[GenSite, GenCollection, GenSubject]]:
        for site, coll in self.collections():
            for subject in coll.subjects:
                yield site, coll, subject

    def counts(self) -> dict[str, int]:
        subjects = [s for _, _, s in self.subjects()]
        studies = [st for s in subjects for st in s.studies]
        return {
            "sites": len(self.sites),
            "collections": sum(1 for _ in self.collections()),
            "subjects": len(subjects),
            "studies": len(studies),
            "series": sum(len(st.series) for st in studies),
        }


VISIBILITIES = ["public", "public", "registered", "aggregate", "aggregate", "private"]
TOPICS = [
    "multiple sclerosis",
    "dementia",
    "epilepsy",
    "glioma",
    "stroke",
    "ageing",
    "mouse models",
]


def generate(
    subjects: int = 300, sites: int = 10, collections_per_site: int = 4, seed: int = 7
) -> Catalogue:
    """Deterministic for a seed. Collection sizes follow a Zipf-like law; studies per subject
    (mean ~3) and series per study (mean ~3.3) are skewed to the right."""
    rng = random.Random(seed)  # noqa: S311 - synthetic data, reproducible by seed
    out = Catalogue(sites=[])
    colls: list[GenCollection] = []
    for s in range(sites):
        site = GenSite(_uuid(rng), f"site-{s:02d}", f"Hospital {s}")
        for c in range(collections_per_site):
            topic = TOPICS[(s + c) % len(TOPICS)]
            visibility = VISIBILITIES[(s * collections_per_site + c) % len(VISIBILITIES)]
            coll = GenCollection(
                _uuid(rng), f"{topic.title()} cohort {s}.{c}", f"Imaging of {topic}", visibility
            )
            site.collections.append(coll)
            colls.append(coll)
        out.sites.append(site)
    weights = [1 / (i + 1) ** 1.1 for i in range(len(colls))]
    rng.shuffle(weights)
    for coll in rng.choices(colls, weights=weights, k=subjects):
        coll.subjects.append(_subject(rng, coll))
    return out


def _uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def _subject(rng: random.Random, coll: GenCollection) -> GenSubject:
    mouse = "mouse" in coll.title.lower()
    topic = coll.description.removeprefix("Imaging of ")
    main = {
        "multiple sclerosis": "G35",
        "dementia": rng.choice(["G30.0", "G30.1"]),
        "epilepsy": "G40",
        "glioma": "C71",
        "stroke": "I63",
    }.get(topic)
    patient = rng.random() < 0.7
    diagnoses = [main] if main and patient else []
    if rng.random() < 0.12:
        diagnoses.append(rng.choice(list(DIAGNOSES)))
    birth = None if mouse else (rng.randint(1935, 2008) if rng.random() > 0.03 else None)
    subject = GenSubject(
        id=_uuid(rng),
        sex=rng.choices(["female", "male", "other", "unknown"], [48, 48, 1, 3])[0],
        birth_year=birth,
        group=("patient" if patient else "control") if rng.random() > 0.1 else None,
        species="Mus musculus" if mouse else "Homo sapiens",
        strain=rng.choice(["C57BL/6J", "BALB/c"]) if mouse else None,
        diagnoses=sorted(set(diagnoses)),
        first_seen=datetime(2022, 1, 1, tzinfo=UTC) + timedelta(minutes=rng.randint(0, 1_500_000)),
    )
    for _ in range(min(1 + int(rng.expovariate(1 / 2.5)), 12)):
        subject.studies.append(_study(rng, subject, topic))
    return subject


def _study(rng: random.Random, subject: GenSubject, topic: str) -> GenStudy:
    year = rng.randint(2005, 2024)
    age = None
    if subject.birth_year is not None and subject.birth_year <= year:
        age = round(year - subject.birth_year + rng.random(), 2)
    study = GenStudy(
        _uuid(rng), rng.choice([f"MRI {topic}", "Brain MRI", "CT head", None]), year, age
    )
    kinds = rng.choices(["MR", "CT", "PT"], [80, 15, 5])[0]
    for _ in range(min(1 + int(rng.expovariate(1 / 2.85)), 20)):
        study.series.append(_series(rng, kinds if rng.random() > 0.05 else "SEG", year))
    return study


def _series(rng: random.Random, modality: str, year: int) -> GenSeries:
    mr = modality == "MR"
    sequence = rng.choices(list(SEQUENCES), [30, 20, 18, 12, 5, 6, 4, 5])[0] if mr else None
    maker = rng.choices(list(MANUFACTURERS), [50, 30, 20])[0] if modality != "SEG" else None
    strength = rng.choices([1.5, 3.0, 7.0], [40, 57, 3])[0] if mr else None
    body = rng.choices(list(BODY_PARTS), [50, 15, 8, 4, 5, 3, 10, 5])[0]
    contrast = (rng.random() < 0.3) if sequence == "t1_mprage" else (None if not mr else False)
    desc = f"{'POST ' if contrast else ''}{sequence or modality} {body.lower()}"
    return GenSeries(
        id=_uuid(rng),
        modality=modality,
        body_part=body if rng.random() > 0.05 else None,
        sequence=sequence,
        description=desc,
        manufacturer=maker,
        model_name=rng.choice(MANUFACTURERS[maker]) if maker else None,
        field_strength_t=strength,
        slice_thickness_mm=rng.choice([0.8, 1.0, 1.2, 3.0, 5.0]) if modality != "SEG" else None,
        repetition_time_ms=round(rng.uniform(5, 9000), 1) if mr else None,
        echo_time_ms=round(rng.uniform(2, 120), 1) if mr else None,
        inversion_time_ms=2500.0 if sequence == "AX FLAIR" else None,
        flip_angle_deg=rng.choice([8.0, 9.0, 90.0, 150.0]) if mr else None,
        contrast_agent=contrast,
        image_type=["DERIVED", "SECONDARY"] if modality == "SEG" else ["ORIGINAL", "PRIMARY"],
        annotations=modality == "SEG",
        instance_count=rng.randint(1, 400),
        year=year,
    )


# -- loading into a store ---------------------------------------------------------------------
NOW = datetime(2025, 1, 1, tzinfo=UTC)


def _entity(store: Store, table: str, id_: uuid.UUID, **values: Any) -> dict[str, Any]:
    iri = f"{store.base_iri}/id/{table}/{id_}"
    return {"id": id_, "iri": iri, "created_at": NOW, "updated_at": NOW, **values}


def _harvested(
    store: Store, table: str, id_: uuid.UUID, source: uuid.UUID, **values: Any
) -> dict[str, Any]:
    first = values.pop("first_seen_at", NOW)
    return _entity(
        store,
        table,
        id_,
        source_id=source,
        native_id=str(id_),
        first_seen_at=first,
        last_seen_at=NOW,
        content_hash="",
        missing_runs=0,
        **values,
    )


def load(store: Store, catalogue: Catalogue, batch: int = 5000) -> None:
    """Bulk-insert the catalogue (no outbox rows: index it with `Indexer.rebuild`)."""
    rows: dict[Any, list[dict[str, Any]]] = {m: [] for m in _ORDER}
    with store.engine.begin() as conn:

        def emit(model: Any, row: dict[str, Any]) -> None:
            rows[model].append(row)
            if len(rows[model]) >= batch:
                _flush(conn, rows, upto=model)

        for site in catalogue.sites:
            source = uuid.uuid5(site.id, "source")
            emit(Site, _entity(store, "site", site.id, slug=site.slug, name=site.name))
            emit(Source, _entity(store, "source", source, name=f"src-{site.slug}",
                                 kind="synthetic", site_id=site.id))  # fmt: skip
            for coll in site.collections:
                values = {"title": coll.title, "description": coll.description}
                emit(Collection, _harvested(store, "collection", coll.id, source, site_id=site.id,
                     visibility=coll.visibility, **values))  # fmt: skip
                for subject in coll.subjects:
                    _emit_subject(store, emit, subject, coll, source)
        _flush(conn, rows, upto=None)


_ORDER = [Site, Source, Collection, Subject, ImagingStudy, Series, CodedValue]


def _flush(conn: sa.Connection, rows: dict[Any, list[dict[str, Any]]], upto: Any) -> None:
    """Insert pending rows, parents first (a child batch may reference pending parents)."""
    for model in _ORDER:
        if rows[model]:
            conn.execute(sa.insert(model.__table__), rows[model])  # type: ignore[attr-defined]
            rows[model] = []
        if model is upto:
            return


def _coded(
    kind: str, entity: uuid.UUID, name: str, raw: str, table: dict[str, str | None]
) -> dict[str, Any]:
    iri = table.get(raw)
    return {
        "id": uuid.uuid5(entity, f"{name}:{raw}"),
        "iri": None,
        "created_at": NOW,
        "updated_at": NOW,
        "entity_type": kind,
        "entity_id": entity,
        "field": name,
        "original_value": raw,
        "concept_iri": iri,
        "scheme": None,
        "code": None,
        "label": ONTOLOGY[iri][0] if iri else None,
        "method": "label" if iri else "unmapped",
        "confidence": 1.0 if iri else 0.0,
        "ancestors": ancestors(iri) if iri else [],
    }


def _emit_subject(
    store: Store, emit: Any, subject: GenSubject, coll: GenCollection, source: uuid.UUID
) -> None:
    emit(Subject, _harvested(store, "subject", subject.id, source, collection_id=coll.id,
         sex=subject.sex, birth_year=subject.birth_year, group=subject.group,
         strain=subject.strain, first_seen_at=subject.first_seen))  # fmt: skip
    emit(CodedValue, _coded("subject", subject.id, "species", subject.species, dict(SPECIES)))
    for raw in subject.diagnoses:
        emit(CodedValue, _coded("subject", subject.id, "diagnosis", raw, DIAGNOSES))
    for study in subject.studies:
        emit(ImagingStudy, _harvested(store, "imaging_study", study.id, source,
             subject_id=subject.id, collection_id=coll.id, description=study.description,
             year=study.year, age_years=study.age_years))  # fmt: skip
        for s in study.series:
            emit(Series, _series_row(store, s, study, subject, coll, source))
            emit(CodedValue, _coded("series", s.id, "modality", s.modality, _MODALITIES))
            if s.body_part:
                emit(CodedValue, _coded("series", s.id, "body_part", s.body_part, BODY_PARTS))
            if s.sequence:
                emit(CodedValue, _coded("series", s.id, "sequence_type", s.sequence, SEQUENCES))


_MODALITIES: dict[str, str | None] = {m: DCM + m for m in ("MR", "CT", "PT", "SEG")}


_SAME_NAMES = ("modality", "body_part", "manufacturer", "model_name", "field_strength_t",
               "slice_thickness_mm", "repetition_time_ms", "echo_time_ms", "inversion_time_ms",
               "flip_angle_deg", "contrast_agent", "image_type", "annotations", "instance_count",
               "year")  # fmt: skip


def _series_row(store: Store, s: GenSeries, study: GenStudy, subject: GenSubject,
                coll: GenCollection, source: uuid.UUID) -> dict[str, Any]:  # fmt: skip
    return _harvested(
        store, "series", s.id, source, study_id=study.id, subject_id=subject.id,
        collection_id=coll.id, series_description=s.description, protocol_name=None,
        sequence_name=s.sequence, sop_class_uids=[], access_url=None, attributes={},
        **{name: getattr(s, name) for name in _SAME_NAMES},
    )  # fmt: skip
