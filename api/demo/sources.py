"""The demo's three sites and their sources, generated once into the node's data directory.

- `north`, North University Hospital: a DICOM export folder (neuro MR, CT, PET-CT; SEG and SR
  annotations); public.
- `south`, South Neuroscience Institute: two BIDS datasets (an MS cohort with diagnoses, a memory
  clinic) and an XNAT (the contract server, three projects, one of them `protected`, so
  aggregate-only); public.
- `east`, East Regional Imaging Centre: DICOMweb of an Orthanc when one is configured, else a
  DICOM export folder (CT, PET-CT, some MR at 1.5 T); aggregate-only.

A finished generation leaves a marker naming its scale: a second run with the same scale writes
nothing, and the harvesters find nothing new (incremental runs).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import yaml

from api.demo.bids_files import write_dataset
from api.demo.dicom_files import write_export
from api.demo.population import EAST, NORTH, SOUTH, Mix, Person, people
from api.demo.xnat_people import xnat_site
from api.demo.xnat_site import StaticSite

SITES = {
    "north": "North University Hospital",
    "south": "South Neuroscience Institute",
    "east": "East Regional Imaging Centre",
}
GENERATION = 1  # bump when what is generated changes: old trees are written again
XNAT_MIX = Mix(
    exams=(("brain-mr", 5), ("tumour-mr", 2), ("head-ct", 1)),
    scanners=(
        ((("SIEMENS", "Skyra", 3.0)), 2),
        ((("GE MEDICAL SYSTEMS", "SIGNA Premier", 3.0)), 1),
    ),
    annotated=0.0,
)
#: (source part, people at scale 1)
SIZES = {"north": 1000, "ms": 450, "memory": 250, "xnat": 300, "east": 400}


@dataclass(frozen=True)
class Population:
    north: list[Person]
    ms: list[Person]
    memory: list[Person]
    xnat: dict[tuple[str, str, str], list[Person]]
    east: list[Person]

    def subjects(self) -> int:
        parts = [self.north, self.ms, self.memory, self.east, *self.xnat.values()]
        return sum(len(p) for p in parts)


def population(scale: float) -> Population:
    n = {part: max(4, round(size * scale)) for part, size in SIZES.items()}
    xnat = people("xnatsouth", n["xnat"], XNAT_MIX, seed=4)
    third = len(xnat) // 3
    return Population(
        north=people("north", n["north"], NORTH, seed=1),
        ms=people("msc", n["ms"], SOUTH, seed=2),
        memory=people("mem", n["memory"], _MEMORY, seed=3),
        xnat={
            ("STROKE", "Stroke follow-up", "public"): xnat[:third],
            ("NEURO_ONC", "Neuro-oncology", "public"): xnat[third : 2 * third],
            ("EPILEPSY", "Epilepsy surgery work-up", "protected"): xnat[2 * third :],
        },
        east=people("east", n["east"], EAST, seed=5),
    )


_MEMORY = Mix(exams=(("brain-mr", 1),), scanners=SOUTH.scanners, annotated=0.0, ms_share=0.0)


def generate(
    root: Path, scale: float, *, east_folder: bool, say: Callable[[str], None]
) -> Population:
    """Write the file-based sources under `root` unless a run with this scale wrote them."""
    found = population(scale)
    marker = root / f".generated-{GENERATION}-{scale:g}{'-east' if east_folder else ''}"
    if marker.exists():
        return found
    for stale in root.glob(".generated-*"):
        stale.unlink()
    files = write_export(root / "north-export", found.north)
    say(f"north: a DICOM export of {len(found.north)} patients ({files} files)")
    images = write_dataset(root / "bids-ms", "Multiple sclerosis cohort", found.ms)
    images += write_dataset(root / "bids-memory", "Memory clinic", found.memory)
    participants = len(found.ms) + len(found.memory)
    say(f"south: two BIDS datasets, {participants} participants ({images} images)")
    if east_folder:
        files = write_export(root / "east-export", found.east)
        say(f"east: a DICOM export of {len(found.east)} patients ({files} files)")
    marker.touch()
    return found


def demo_xnat(found: Population) -> StaticSite:
    return xnat_site(found.xnat)


def sources_file(root: Path, *, xnat_url: str, dicomweb_url: str | None) -> Path:
    """Write the demo's sources YAML (every source names its site) and return its path."""
    sources = [
        {"name": "north-pacs-export", "kind": "dicom-folder", "site": "north",
         "description": "Nightly research export of the neuroradiology PACS",
         "path": str(root / "north-export"), "collection": "Neuroradiology research export"},
        {"name": "south-ms-cohort", "kind": "bids", "site": "south",
         "description": "BIDS dataset of the MS cohort study",
         "path": str(root / "bids-ms"), "diagnosis_columns": ["diagnosis"],
         "nifti_headers": False},
        {"name": "south-memory-clinic", "kind": "bids", "site": "south",
         "description": "BIDS dataset of the memory clinic",
         "path": str(root / "bids-memory"), "diagnosis_columns": ["diagnosis"],
         "nifti_headers": False},
        {"name": "south-xnat", "kind": "xnat", "site": "south",
         "description": "The institute's XNAT (a contract server started by the demo)",
         "url": xnat_url, "username": "harvester", "password": "harvester-password"},
        _east(root, dicomweb_url),
    ]  # fmt: skip
    path = root / "demo-sources.yaml"
    header = "# Written by `catalogue demo`: three sites, five sources, every kind harvested.\n"
    path.write_text(header + yaml.safe_dump({"sources": sources}, sort_keys=False))
    return path


def _east(root: Path, dicomweb_url: str | None) -> dict[str, object]:
    common = {"site": "east", "collection": "Regional imaging archive", "visibility": "aggregate"}
    if dicomweb_url is not None:
        return {"name": "east-pacs", "kind": "dicomweb", **common, "url": dicomweb_url,
                "description": "The centre's PACS (Orthanc) over DICOMweb"}  # fmt: skip
    return {"name": "east-pacs-export", "kind": "dicom-folder", **common,
            "path": str(root / "east-export"),
            "description": "Export of the centre's PACS (no Orthanc configured)"}  # fmt: skip
