"""Load a real Orthanc with real DICOM files, idempotently.

The files are the ones that ship inside the pydicom wheel (those with PatientID, study and series
UIDs that Orthanc accepts) plus generated MR series (copies of MR_small.dcm with deterministic
UIDs, dates and acquisition parameters). Orthanc names an instance by the SHA-1 of its patient,
study, series and instance identifiers, so we compute that id locally and upload only the
instances Orthanc does not hold yet: a second load costs one `GET /instances`. We never wipe: the
Orthanc of `deploy/local/services` is shared, and tests compare with what Orthanc holds.
"""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
import hashlib
import io
import json
import shutil
import socket
import subprocess
import time
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pydicom
import pydicom.data
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError
from pydicom.uid import UID, generate_uid

KEYS = ("PatientID", "StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID")
GENERATED_PREFIX = "CATGEN"
BENCH_PREFIX = "CATBENCH"
MR_PARAMS = (  # description, field strength, TR, TE, TI, flip angle
    ("T1 MPRAGE", 3.0, 2300.0, 2.98, 900.0, 9.0),
    ("T2 FLAIR", 1.5, 9000.0, 81.0, 2500.0, 150.0),
    ("T2 TSE", 3.0, 4000.0, 96.0, None, 120.0),
    ("DWI", 1.5, 5000.0, 89.0, None, 90.0),
)


@dataclass
class Loaded:
    """What was loaded: every instance's raw identifiers (to prove none leaks into a record)."""

    instances: int = 0
    raw_values: set[str] = field(default_factory=set)
    generated_studies: dict[str, str] = field(default_factory=dict)  # StudyInstanceUID → date

    def add(self, ds: Dataset) -> None:
        self.instances += 1
        for keyword in (*KEYS, "PatientName", "AccessionNumber", "PatientBirthDate"):
            value = str(ds.get(keyword, "") or "")
            if value:
                self.raw_values.add(value)


def orthanc_id(ds: Dataset) -> str:
    """Orthanc's instance id: SHA-1 of 'PatientID|StudyUID|SeriesUID|SOPInstanceUID'."""
    digest = hashlib.sha1("|".join(str(ds.get(k, "")) for k in KEYS).encode()).hexdigest()  # noqa: S324
    return "-".join(digest[i : i + 8] for i in range(0, 40, 8))


def testdata_files() -> Iterator[tuple[bytes, Dataset]]:
    """The pydicom test files present locally that carry the identifiers a PACS files them by."""
    for name in sorted(pydicom.data.get_testdata_files()):
        path = Path(name)
        if not path.is_file():
            continue
        data = path.read_bytes()
        with warnings.catch_warnings():  # pydicom warns about the deliberately broken files
            warnings.simplefilter("ignore")
            try:
                ds = pydicom.dcmread(io.BytesIO(data), stop_before_pixels=True)
            except (InvalidDicomError, ValueError, EOFError, OSError, TypeError, KeyError):
                continue
        if all(ds.get(k) for k in KEYS):
            yield data, ds


def generated(
    prefix: str = GENERATED_PREFIX,
    patients: int = 5,
    studies_per_patient: int = 2,
    series_per_study: int = 2,
    instances_per_series: int = 2,
) -> Iterator[tuple[bytes, Dataset]]:
    """MR series copied from MR_small.dcm; every UID derives from `prefix` and a position, so a
    second call yields the very same instances. The first series of each study varies its echo
    time between instances (a multi-echo series)."""
    template = pydicom.dcmread(pydicom.data.get_testdata_file("MR_small.dcm"))  # type: ignore[arg-type]
    for p in range(patients):
        for s in range(studies_per_patient):
            date = dt.date(2015, 1, 10) + dt.timedelta(days=400 * s + 37 * p)
            for se in range(series_per_study):
                for i in range(instances_per_series):
                    ds = _mr_instance(template, prefix, (p, s, se, i), date)
                    yield _encode(ds), ds


def _mr_instance(
    template: Dataset, prefix: str, pos: tuple[int, int, int, int], date: dt.date
) -> Dataset:
    p, s, se, i = pos
    ds = copy.deepcopy(template)  # Dataset.copy() is shallow: it would share elements
    desc, tesla, tr, te, ti, flip = MR_PARAMS[(p + s + se) % len(MR_PARAMS)]
    ds.PatientName = f"{prefix}^Patient{p}"
    ds.PatientID = f"{prefix}-P{p:04d}"
    ds.PatientSex = "MF"[p % 2]
    ds.PatientBirthDate = f"{1950 + 7 * p}0615"
    ds.PatientAge = f"{date.year - 1950 - 7 * p:03d}Y"
    ds.StudyInstanceUID = _uid(prefix, p, s)
    ds.SeriesInstanceUID = _uid(prefix, p, s, se)
    ds.SOPInstanceUID = _uid(prefix, p, s, se, i)
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.StudyDate = ds.SeriesDate = ds.AcquisitionDate = date.strftime("%Y%m%d")
    ds.StudyTime = f"{8 + se:02d}{10 * s:02d}00"
    ds.AccessionNumber = f"{prefix[:4]}{p:03d}{s:03d}"
    ds.StudyDescription = "BRAIN MRI"
    ds.SeriesDescription = ds.ProtocolName = desc
    ds.SeriesNumber = se + 1
    ds.InstanceNumber = i + 1
    ds.Manufacturer = ("SIEMENS", "GE MEDICAL SYSTEMS")[p % 2]
    ds.ManufacturerModelName = ("Prisma", "Signa HDxt")[p % 2]
    ds.BodyPartExamined = "BRAIN"
    ds.MagneticFieldStrength = tesla
    ds.RepetitionTime, ds.FlipAngle = tr, flip
    ds.EchoTime = te * (i + 1) if se == 0 else te
    if ti is not None:
        ds.InversionTime = ti
    ds.SliceThickness = 1.0 + se
    return ds


def _uid(prefix: str, *pos: int) -> UID:
    return generate_uid(entropy_srcs=[prefix, *map(str, pos)])


def _encode(ds: Dataset) -> bytes:
    out = io.BytesIO()
    ds.save_as(out, enforce_file_format=True)
    return out.getvalue()


def upload(url: str, instances: Iterable[tuple[bytes, Dataset]], loaded: Loaded) -> None:
    """Upload the instances Orthanc does not hold yet; skip the ones it refuses."""
    with httpx.Client(base_url=url, timeout=60) as http:
        have = set(http.get("/instances").raise_for_status().json())
        for data, ds in instances:
            if orthanc_id(ds) not in have:
                reply = http.post("/instances", content=data)
                if reply.status_code != 200:
                    continue
                have.add(reply.json()["ID"])
            loaded.add(ds)
            if str(ds.PatientID).startswith(GENERATED_PREFIX):
                loaded.generated_studies[str(ds.StudyInstanceUID)] = str(ds.StudyDate)


def load(url: str) -> Loaded:
    """Load the test files and the generated series into the Orthanc at `url` (idempotent)."""
    loaded = Loaded()
    upload(url, testdata_files(), loaded)
    upload(url, generated(), loaded)
    return loaded


@dataclass(frozen=True)
class Holdings:
    """What Orthanc itself says it holds (REST API, not DICOMweb)."""

    patients: int
    studies: int
    series: int
    instances_per_series: dict[str, int]  # SeriesInstanceUID → instance count


def holdings(url: str, since: str | None = None) -> Holdings:
    """Counts from Orthanc's REST API; with `since` (YYYYMMDD), only studies dated from then."""
    with httpx.Client(base_url=url, timeout=60) as http:
        query: dict[str, object] = {"Level": "Series", "Expand": True, "Query": {}}
        if since:
            query["Query"] = {"StudyDate": f"{since}-"}
        found = http.post("/tools/find", json=query).raise_for_status().json()
        studies = {s["ParentStudy"] for s in found}
        patients = set()
        for study in studies:
            patients.add(http.get(f"/studies/{study}").json()["ParentPatient"])
        counts = {
            s["MainDicomTags"]["SeriesInstanceUID"]: len(s["Instances"])
            for s in found
            if "SeriesInstanceUID" in s["MainDicomTags"]
        }
    return Holdings(len(patients), len(studies), len(found), counts)


@dataclass(frozen=True)
class Secured:
    """A second, throwaway Orthanc that checks credentials and AE titles."""

    url: str
    dicom_port: int
    aet: str = "SECURED"
    user: str = "alice"
    password: str = "wonderland-7"
    calling_aet: str = "CATALOGUE"  # the only AE title it accepts C-ECHO and C-FIND from


def orthanc_binaries() -> tuple[str, str] | None:
    """The Orthanc executable and DICOMweb plugin, found as `deploy/local/services` does."""
    binary = shutil.which("Orthanc")
    listing = subprocess.run(
        ["dpkg", "-L", "orthanc-dicomweb"], capture_output=True, text=True, check=False
    ).stdout.split()
    plugins = [p for p in listing if Path(p).name.startswith("libOrthancDicomWeb")]
    plugins = [p for p in plugins if p.endswith(".so")]
    return (binary, plugins[0]) if binary and plugins else None


def free_ports(count: int = 1) -> list[int]:
    """Ports nothing listens on (all held open together, so they differ)."""
    with contextlib.ExitStack() as stack:
        socks = [stack.enter_context(socket.socket()) for _ in range(count)]
        for sock in socks:
            sock.bind(("127.0.0.1", 0))
        return [int(sock.getsockname()[1]) for sock in socks]


@contextlib.contextmanager
def secured_orthanc(binary: str, plugin: str, workdir: Path) -> Iterator[Secured]:
    """Start a second Orthanc (own ports, storage and config), load one small study into it, and
    kill it afterwards: it is throwaway, so no ~5 s clean stop."""
    http_port, dicom_port = free_ports(2)
    secured = Secured(url=f"http://127.0.0.1:{http_port}", dicom_port=dicom_port)
    config = _secured_config(secured, plugin, workdir)
    (workdir / "orthanc.json").write_text(json.dumps(config))
    log = workdir / "orthanc.log"
    process = subprocess.Popen(
        [binary, f"--logfile={log}", str(workdir / "orthanc.json")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_until_up(secured, process)
        auth = (secured.user, secured.password)
        with httpx.Client(base_url=secured.url, auth=auth, timeout=30) as http:
            for data, _ds in generated(prefix="CATSEC", patients=1, studies_per_patient=1):
                http.post("/instances", content=data).raise_for_status()
        yield secured
    finally:
        process.kill()
        process.wait(timeout=10)


def _secured_config(secured: Secured, plugin: str, workdir: Path) -> dict[str, object]:
    """Credentials required; C-ECHO and C-FIND only to the called AE title SECURED from the one
    registered calling AE title."""
    return {
        "Name": "catalogue-secured-test",
        "StorageDirectory": str(workdir / "storage"),
        "IndexDirectory": str(workdir / "index"),
        "HttpPort": int(secured.url.rsplit(":", 1)[1]),
        "DicomPort": secured.dicom_port,
        "RemoteAccessAllowed": False,
        "AuthenticationEnabled": True,
        "RegisteredUsers": {secured.user: secured.password},
        "DicomAet": secured.aet,
        "DicomCheckCalledAet": True,
        "DicomAlwaysAllowEcho": False,
        "DicomAlwaysAllowFind": False,
        "DicomAlwaysAllowStore": False,
        "DicomCheckModalityHost": False,
        "DicomModalities": {"catalogue": [secured.calling_aet, "127.0.0.1", 104]},
        "Plugins": [plugin],
        "DicomWeb": {"Enable": True, "Root": "/dicom-web/"},
    }


def _wait_until_up(secured: Secured, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the second Orthanc exited with {process.returncode}")
        try:
            if httpx.get(secured.url + "/system", timeout=1).status_code == 401:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise RuntimeError("the second Orthanc did not answer within 20 s")


def generated_series(prefix: str = GENERATED_PREFIX) -> dict[str, list[Dataset]]:
    """The generated instances by SeriesInstanceUID (what the records of each should say)."""
    series: dict[str, list[Dataset]] = {}
    for _data, ds in generated(prefix):
        series.setdefault(str(ds.SeriesInstanceUID), []).append(ds)
    return series


def leaked(texts: Iterable[str], raw_values: Iterable[str]) -> list[str]:
    """The raw values found in `texts`: anywhere when long enough to be unambiguous (UIDs, IDs,
    names, dates), as a whole JSON string value when short ("1", "CT1")."""
    blob = "\n".join(texts)
    found = []
    for value in raw_values:
        parts = [value, *(p for p in value.replace("=", "^").split("^") if len(p) >= 6)]
        for part in parts:
            if (len(part) >= 6 and part in blob) or f'"{part}"' in blob:
                found.append(part)
    return found
