"""The east site's PACS when an Orthanc is configured (`CATALOGUE_DEMO_ORTHANC_URL`): its people's
instances uploaded through Orthanc's REST API (`POST /instances`), then harvested over DICOMweb.

Orthanc names an instance by the SHA-1 of its patient, study, series and instance identifiers,
so whether it holds the demo already is one request for the last instance.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import httpx

from api.demo.dicom_files import Header, encode, instances
from api.demo.population import Person

_KEYS = ("PatientID", "StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID")


def dicomweb_root(url: str | None, say: Callable[[str], None]) -> str | None:
    """The DICOMweb root of the configured Orthanc, or None (said why) to use a folder instead."""
    if url is None:
        say("east: no Orthanc configured (CATALOGUE_DEMO_ORTHANC_URL), so a DICOM export folder")
        return None
    try:
        plugins = httpx.get(f"{url.rstrip('/')}/plugins", timeout=5).raise_for_status().json()
    except (httpx.HTTPError, ValueError) as exc:
        say(
            f"east: Orthanc at {url} not reachable ({type(exc).__name__}), so a DICOM export folder"
        )
        return None
    if "dicom-web" not in plugins:
        say(f"east: Orthanc at {url} has no DICOMweb plugin, so a DICOM export folder")
        return None
    return f"{url.rstrip('/')}/dicom-web"


def orthanc_id(header: Header) -> str:
    """Orthanc's instance id: SHA-1 of 'PatientID|StudyUID|SeriesUID|SOPInstanceUID'."""
    digest = hashlib.sha1("|".join(header[k] for k in _KEYS).encode()).hexdigest()  # noqa: S324
    return "-".join(digest[i : i + 8] for i in range(0, 40, 8))


def upload(url: str, people: list[Person], say: Callable[[str], None]) -> int:
    """Upload the people's instances unless Orthanc holds them; returns how many were sent."""
    headers = [header for _, header in instances(people)]
    with httpx.Client(base_url=url.rstrip("/"), timeout=30) as client:
        if client.get(f"/instances/{orthanc_id(headers[-1])}").status_code == 200:
            return 0
        for header in headers:
            client.post(
                "/instances", content=encode(header), headers={"Content-Type": "application/dicom"}
            ).raise_for_status()
    say(f"east: uploaded {len(headers)} instances of {len(people)} patients to Orthanc")
    return len(headers)
