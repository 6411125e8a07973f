"""Benchmark: the DICOMweb harvester against a bare paged QIDO-RS loop, same Orthanc, same run.

The bare loop is the least a client must do to get the same information: page through the
studies, then list each study's series with the same `includefield`s (and, with `--metadata
first|all`, make the same WADO-RS requests), decoding nothing but JSON. The harvester does all
that plus its census and StudyDate windows, DICOM JSON decoding, de-identification and records.
Throughput is series per second; the target ratio is >= 0.8.

    CATALOGUE_TEST_ORTHANC_URL=http://127.0.0.1:18042 .venv/bin/python bench/dicomweb_harvest.py

It first loads generated series (default 1,000, one instance each, 250 studies over six years)
into that Orthanc, and deletes them again at the end unless `--keep` (so the test suite, which
walks everything Orthanc holds, stays fast).
"""

from __future__ import annotations

import argparse
import copy
import datetime as dt
import io
import os
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pydicom
import pydicom.data
from pydantic import SecretStr
from pydicom.dataset import Dataset
from pydicom.uid import generate_uid

from catalogue.records import SeriesRecord
from harvesters.base import HarvestContext
from harvesters.dicom._query import QueryFields
from harvesters.dicom.deid import Deidentifier
from harvesters.dicom.dicomweb import DicomWebConfig, DicomWebHarvester

PREFIX = "CATBENCH"
SECRET = "benchmark-secret-of-32-characters"  # noqa: S105 (a throwaway key for generated data)


def instances(series: int) -> Iterator[Dataset]:
    """`series` one-instance MR series, four per study, deterministic UIDs (so reloading is a
    no-op), studies spread over six years."""
    template = pydicom.dcmread(pydicom.data.get_testdata_file("MR_small.dcm"))  # type: ignore[arg-type]
    for n in range(series):
        study, patient = n // 4, n // 20
        ds = copy.deepcopy(template)
        ds.PatientID, ds.PatientName = f"{PREFIX}-{patient:05d}", f"{PREFIX}^P{patient}"
        ds.StudyInstanceUID = generate_uid(entropy_srcs=[PREFIX, str(study)])
        ds.SeriesInstanceUID = generate_uid(entropy_srcs=[PREFIX, str(study), str(n)])
        ds.SOPInstanceUID = generate_uid(entropy_srcs=[PREFIX, str(study), str(n), "0"])
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        ds.StudyDate = (dt.date(2018, 1, 1) + dt.timedelta(days=9 * study)).strftime("%Y%m%d")
        ds.SeriesDescription = ("T1 MPRAGE", "T2 FLAIR", "DWI", "T2 TSE")[n % 4]
        ds.EchoTime, ds.MagneticFieldStrength = 2.5 + n % 4 * 30, (1.5, 3.0)[study % 2]
        yield ds


def load(url: str, series: int) -> None:
    with httpx.Client(base_url=url, timeout=60) as http:
        present = http.post("/tools/find", json={"Level": "Series", "Query": {}}).json()
        expected = {str(ds.SeriesInstanceUID): ds for ds in instances(series)}
        held = {
            http.get(f"/series/{s}").json()["MainDicomTags"].get("SeriesInstanceUID")
            for s in present
        }
        missing = [ds for uid, ds in expected.items() if uid not in held]
        for ds in missing:
            out = io.BytesIO()
            ds.save_as(out, enforce_file_format=True)
            http.post("/instances", content=out.getvalue()).raise_for_status()
        print(f"loaded {len(missing)} generated series ({series - len(missing)} already there)")


def unload(url: str) -> None:
    with httpx.Client(base_url=url, timeout=60) as http:
        query = {"Level": "Patient", "Query": {"PatientID": f"{PREFIX}-*"}}
        for patient in http.post("/tools/find", json=query).json():
            http.delete(f"/patients/{patient}").raise_for_status()


def harvest(root: str, metadata: str, concurrency: int) -> int:
    config = DicomWebConfig(
        url=root,
        collection="bench",
        metadata=metadata,
        concurrency=concurrency,
    )
    context = HarvestContext(source="bench", site="bench", pseudonym_secret=SecretStr(SECRET))
    items = DicomWebHarvester(config, context).iter_records(None)
    return sum(isinstance(item, SeriesRecord) for item in items)


def bare(root: str, metadata: str, page: int = 500) -> int:
    fields = QueryFields.of(Deidentifier(SECRET.encode()).profile)
    study_fields = ",".join(f"{t:08X}" for t in fields.study)
    series_fields = ",".join(f"{t:08X}" for t in fields.series)
    count = 0
    with httpx.Client(headers={"Accept": "application/dicom+json"}, timeout=60) as http:
        for study in _paged(http, f"{root}/studies?includefield={study_fields}", page):
            uid = study["0020000D"]["Value"][0]
            base = f"{root}/studies/{uid}/series"
            for series in _paged(http, f"{base}?includefield={series_fields}", page):
                count += 1
                _metadata(http, f"{base}/{series['0020000E']['Value'][0]}", metadata)
    return count


def _paged(http: httpx.Client, url: str, page: int) -> Iterator[dict[str, Any]]:
    offset = 0
    while True:
        found = http.get(f"{url}&limit={page}&offset={offset}").json()
        yield from found
        offset += len(found)
        if len(found) < page:
            return


def _metadata(http: httpx.Client, base: str, metadata: str) -> None:
    if metadata == "all":
        http.get(f"{base}/metadata").json()
    elif metadata == "first":
        first = http.get(f"{base}/instances?limit=1").json()
        http.get(f"{base}/instances/{first[0]['00080018']['Value'][0]}/metadata").json()


def timed(run: Callable[[], int]) -> tuple[float, int]:
    start = time.perf_counter()
    series = run()
    return time.perf_counter() - start, series


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--series", type=int, default=1000, help="generated series to load")
    parser.add_argument("--metadata", choices=["auto", "first", "all"], default="auto")
    parser.add_argument("--concurrency", type=int, default=4, help="the harvester's setting")
    parser.add_argument("--keep", action="store_true", help="leave the generated series")
    args = parser.parse_args()
    url = os.environ.get("CATALOGUE_TEST_ORTHANC_URL")
    if not url:
        sys.exit("set CATALOGUE_TEST_ORTHANC_URL (see `deploy/local/services env`)")
    root = url.rstrip("/") + "/dicom-web"
    load(url, args.series)
    try:
        # "auto" needs no WADO-RS on Orthanc (QIDO answers instance-level attributes)
        baseline = "none" if args.metadata == "auto" else args.metadata
        ours, theirs = [], []
        for _ in range(args.runs):  # alternate, so drift hits both alike
            ours.append(timed(lambda: harvest(root, args.metadata, args.concurrency)))
            theirs.append(timed(lambda: bare(root, baseline)))
        report(ours, theirs, f"metadata={args.metadata}, concurrency={args.concurrency}")
    finally:
        if not args.keep:
            unload(url)


def report(ours: list[tuple[float, int]], theirs: list[tuple[float, int]], setup: str) -> None:
    series = {n for _, n in ours + theirs}
    if len(series) != 1:
        sys.exit(f"the two loops saw different series counts: {sorted(series)}")
    n = series.pop()
    ours_rate = n / statistics.median(t for t, _ in ours)
    bare_rate = n / statistics.median(t for t, _ in theirs)
    print(f"series walked per run: {n} ({setup}, {len(ours)} runs, medians)")
    print(f"  harvester : {ours_rate:8.0f} series/s")
    print(f"  bare QIDO : {bare_rate:8.0f} series/s")
    print(f"  ratio     : {ours_rate / bare_rate:8.2f}  (target >= 0.8)")


if __name__ == "__main__":
    main()
