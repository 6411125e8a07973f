"""Writing harvested records with and without mapping their coded fields.

    .venv/bin/python bench/ingest_coding.py [--subjects 1000] [--runs 3]

The baseline writes subjects, studies and series through the ingest service as a harvest does,
keeping species and diagnoses raw; the measured run does the same with the ontology mapping
modality, body part, sequence type, contrast phase, species and diagnoses into coded values with
their ancestors. Series repeat their descriptions and parameters the way a site's protocols do.
Each run writes a fresh SQLite store; prints medians and the speed ratio (target >= 0.5).
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from pathlib import Path

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
from ontology import Ontology

PROTOCOLS = [
    ("MR", "BRAIN", "t1_mprage_sag_p2", 2300.0, 2.98),
    ("MR", "Brain", "AX FLAIR", 9000.0, 81.0),
    ("MR", "HEAD", "ep2d_diff_mddw_20_p2", 5200.0, 89.0),
    ("MR", "brain", "T1 AX POST GAD", 500.0, 9.0),
    ("MR", "KNEE", "PD_TSE_FS_COR", 3000.0, 30.0),
    ("MR", "LSPINE", "T2_TSE_SAG", 3500.0, 100.0),
    ("CT", "CHEST", "Thorax 1.0 B70f", None, None),
    ("CT", "ABDOMEN", "Abdomen PV 3.0", None, None),
]
DIAGNOSES = ["G35", "Multiple sclerosis", "C71.9", "G30.9", "healthy control", "I63.9"]
BATCH = 500  # as the runner batches


def records(subjects: int, rng: random.Random) -> list[Record]:
    out: list[Record] = [CollectionRecord(native_id="c", title="bench")]
    for s in range(subjects):
        sid = f"p{s}"
        out.append(
            SubjectRecord(
                native_id=sid,
                collection="c",
                species="Homo sapiens",
                diagnoses=(rng.choice(DIAGNOSES),),
            )
        )
        out.append(StudyRecord(native_id=f"st{s}", collection="c", subject=sid, year=2020))
        for k in range(8):
            modality, part, description, tr, te = rng.choice(PROTOCOLS)
            out.append(
                SeriesRecord(
                    native_id=f"se{s}.{k}",
                    collection="c",
                    subject=sid,
                    study=f"st{s}",
                    modality=modality,
                    body_part=part,
                    series_description=description,
                    repetition_time_ms=tr,
                    echo_time_ms=te,
                    image_type=("ORIGINAL", "PRIMARY", "M", "ND"),
                )
            )
    return out


def write(batch: list[Record], coding: CodingService | None) -> float:
    with tempfile.TemporaryDirectory() as root:
        store = Store(f"sqlite:///{Path(root) / 'catalogue.db'}", "http://bench.test")
        store.upgrade()
        store.ensure_site("local", "Local")
        ingest = IngestService(store, coding)
        start = time.perf_counter()
        handle = ingest.start_run("bench", "bench", "local")
        for at in range(0, len(batch), BATCH):
            ingest.write(handle, batch[at : at + BATCH])
        ingest.finish(
            handle,
            status=RunStatus.SUCCEEDED,
            complete=False,
            seen={},
            cursor=None,
            failures=[],
            policy=DeletionPolicy(),
        )
        took = time.perf_counter() - start
        store.dispose()
        return took


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--subjects", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    batch = records(args.subjects, random.Random(5))  # noqa: S311 (test data)
    ontology = Ontology.load()
    ontology.warm()
    coding = CodingService(ontology)
    series = sum(1 for r in batch if r.kind == "series")
    times: dict[str, list[float]] = {"raw": [], "mapped": []}
    for _ in range(args.runs):  # interleaved, so load on the machine hits both alike
        times["raw"].append(write(batch, None))
        ontology.set_curator_decisions({})  # a cold mapping cache each run
        times["mapped"].append(write(batch, coding))
    raw, mapped = (statistics.median(times[k]) for k in ("raw", "mapped"))
    print(f"records: {len(batch):,} ({series:,} series, {args.subjects:,} subjects)")
    print(f"ingest, coded fields raw      median {raw:6.2f} s  ({len(batch) / raw:7.0f} rec/s)")
    print(
        f"ingest, coded fields mapped   median {mapped:6.2f} s  ({len(batch) / mapped:7.0f} rec/s)"
        f"  speed ratio {raw / mapped:.2f} (target >= 0.5)"
    )


if __name__ == "__main__":
    main()
