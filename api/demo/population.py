"""The demo's made-up people and their imaging, per site: deterministic (seeded), skewed as real
sites are (a neuro MR centre, a research institute with an MS cohort, a regional CT/PET centre).

Names, patient IDs and birth dates are invented and look like a hospital's, so that the
de-identification at the edge has something to remove; none of them may reach the catalogue.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

#: Protocols: (key, modality, description, TR ms, TE ms, TI ms, flip °, contrast agent)
Protocol = tuple[str, str, str, float | None, float | None, float | None, float | None, str | None]
FLAIR: Protocol = ("FLAIR", "MR", "t2_tirm_tra_dark-fluid", 9000.0, 81.0, 2500.0, 150.0, None)
T1: Protocol = ("T1w", "MR", "t1_mprage_sag_p2_iso", 2300.0, 2.98, 900.0, 9.0, None)
T1_POST: Protocol = (
    "T1w+C",
    "MR",
    "t1_mprage_sag_p2_iso_post",
    2300.0,
    2.98,
    900.0,
    9.0,
    "Gadovist",
)
T2: Protocol = ("T2w", "MR", "t2_tse_tra", 5000.0, 98.0, None, 150.0, None)
DWI: Protocol = ("DWI", "MR", "ep2d_diff_mddw_20", 7000.0, 89.0, None, 90.0, None)
CT_HEAD: Protocol = ("CT", "CT", "Head routine 5mm", None, None, None, None, None)
CT_CHEST: Protocol = ("CT", "CT", "Thorax 1.0 B70f", None, None, None, None, None)
CT_ABDOMEN: Protocol = ("CT", "CT", "Abdomen portal venous", None, None, None, None, "Iomeron")
PET_FDG: Protocol = ("PET", "PT", "PET WB FDG AC", None, None, None, None, None)
SEG: Protocol = ("SEG", "SEG", "Lesion segmentation", None, None, None, None, None)
SR: Protocol = ("SR", "SR", "Radiology report (structured)", None, None, None, None, None)

#: Scanners: (manufacturer, model, field strength T or None)
SIEMENS_3T = ("SIEMENS", "Prisma_fit", 3.0)
SIEMENS_15T = ("SIEMENS", "Avanto_fit", 1.5)
GE_3T = ("GE MEDICAL SYSTEMS", "DISCOVERY MR750w", 3.0)
GE_15T = ("GE MEDICAL SYSTEMS", "SIGNA Artist", 1.5)
PHILIPS_3T = ("Philips", "Ingenia", 3.0)
PHILIPS_15T = ("Philips", "Achieva", 1.5)
SIEMENS_CT = ("SIEMENS", "SOMATOM Force", None)
CANON_CT = ("CANON_MEC", "Aquilion ONE", None)
GE_PET = ("GE MEDICAL SYSTEMS", "Discovery MI", None)

Scanner = tuple[str, str, float | None]
DIAGNOSES = (
    "Multiple sclerosis, relapsing-remitting",
    "Multiple sclerosis",
    "Multiple sclerosis, secondary progressive",
)
OTHER_DIAGNOSES = ("Migraine", "Glioblastoma", "Ischaemic stroke", "Epilepsy")


@dataclass(frozen=True)
class Series:
    number: int
    protocol: Protocol
    slices: int


@dataclass(frozen=True)
class Study:
    key: str  # unique within the demo: the seed of its UIDs
    year: int
    age: int
    body_part: str
    description: str
    scanner: Scanner
    series: tuple[Series, ...]


@dataclass(frozen=True)
class Person:
    key: str
    patient_id: str
    name: str
    sex: str  # M / F
    birth_year: int
    diagnosis: str | None
    studies: tuple[Study, ...]


@dataclass(frozen=True)
class Mix:
    """What one site's studies look like: weighted exam kinds and scanners."""

    exams: tuple[tuple[str, float], ...]  # exam name (see EXAMS) and weight
    scanners: tuple[tuple[Scanner, float], ...]  # MR scanners and weights
    annotated: float  # share of MR studies with a SEG and an SR
    ms_share: float = 0.0  # share of people with a multiple sclerosis diagnosis


EXAMS: dict[str, tuple[str, str, tuple[Protocol, ...]]] = {
    "brain-mr": ("BRAIN", "MRI Brain", (T1, FLAIR, DWI, T2)),
    "ms-mr": ("BRAIN", "MRI Brain MS protocol", (T1, FLAIR, T1_POST, DWI)),
    "tumour-mr": ("BRAIN", "MRI Brain tumour", (T1, T1_POST, FLAIR, T2, DWI)),
    "head-ct": ("HEAD", "CT Head", (CT_HEAD,)),
    "chest-ct": ("CHEST", "CT Thorax", (CT_CHEST,)),
    "abdomen-ct": ("ABDOMEN", "CT Abdomen", (CT_ABDOMEN,)),
    "pet-ct": ("WHOLEBODY", "PET-CT FDG", (CT_CHEST, PET_FDG)),
}
NORTH = Mix(
    exams=(("brain-mr", 5), ("ms-mr", 2), ("tumour-mr", 2), ("head-ct", 2), ("pet-ct", 0.5)),
    scanners=((SIEMENS_3T, 5), (SIEMENS_15T, 2), (GE_3T, 1)),
    annotated=0.15,
)
SOUTH = Mix(
    exams=(("ms-mr", 6), ("brain-mr", 4)),
    scanners=((SIEMENS_3T, 3), (PHILIPS_3T, 2), (PHILIPS_15T, 1), (GE_15T, 1)),
    annotated=0.0,
    ms_share=0.55,
)
EAST = Mix(
    exams=(("chest-ct", 4), ("abdomen-ct", 3), ("head-ct", 2), ("pet-ct", 2), ("brain-mr", 1)),
    scanners=((PHILIPS_15T, 3), (GE_15T, 1)),
    annotated=0.05,
)


def people(prefix: str, count: int, mix: Mix, seed: int) -> list[Person]:
    """`count` people of one site (or source), named `prefix`-n."""
    rng = random.Random(seed)  # noqa: S311 - reproducible demo data, not a secret
    return [_person(rng, prefix, n, mix) for n in range(count)]


def _person(rng: random.Random, prefix: str, n: int, mix: Mix) -> Person:
    sex = rng.choice("MF") if mix.ms_share == 0 else ("F" if rng.random() < 0.7 else "M")
    ms = rng.random() < mix.ms_share
    birth_year = rng.randint(1935, 2004) if not ms else rng.randint(1960, 2000)
    diagnosis = rng.choice(DIAGNOSES) if ms else _other_diagnosis(rng, mix)
    visits = rng.choices((1, 2, 3), weights=(6, 3, 1))[0]
    first = rng.randint(2012, 2024 - visits)
    studies = tuple(
        _study(rng, f"{prefix}-{n}-{v}", first + 2 * v, first + 2 * v - birth_year, mix, ms)
        for v in range(visits)
    )
    return Person(
        key=f"{prefix}-{n}",
        patient_id=f"{prefix.upper()}{100000 + n}",
        name=f"{rng.choice(_FAMILY)}^{rng.choice(_GIVEN)}",
        sex=sex,
        birth_year=birth_year,
        diagnosis=diagnosis,
        studies=studies,
    )


def _other_diagnosis(rng: random.Random, mix: Mix) -> str | None:
    if mix.ms_share == 0 or rng.random() < 0.6:
        return None  # controls, or sources that carry no diagnosis
    return rng.choice(OTHER_DIAGNOSES)


def _study(rng: random.Random, key: str, year: int, age: int, mix: Mix, ms: bool) -> Study:
    names, weights = zip(*mix.exams, strict=True)
    exam = "ms-mr" if ms else rng.choices(names, weights=weights)[0]
    body_part, description, protocols = EXAMS[exam]
    mr = any(p[1] == "MR" for p in protocols)
    if mr:
        scanners, s_weights = zip(*mix.scanners, strict=True)
        scanner = rng.choices(scanners, weights=s_weights)[0]
        if rng.random() < 0.2:  # not every protocol is run every time
            protocols = protocols[:-1]
    else:
        scanner = GE_PET if exam == "pet-ct" else rng.choice((SIEMENS_CT, CANON_CT))
    if mr and rng.random() < mix.annotated:
        protocols = (*protocols, SEG, SR)
    series = tuple(Series(k + 1, p, rng.randint(*_SLICES[p[1]])) for k, p in enumerate(protocols))
    return Study(key, year, age, body_part, description, scanner, series)


_SLICES = {"MR": (24, 192), "CT": (120, 600), "PT": (200, 400), "SEG": (1, 1), "SR": (1, 1)}
_FAMILY = ("Meyer", "Jansen", "Rossi", "Novak", "Garcia", "Smith", "Kowalski", "Dubois", "Berg")
_GIVEN = ("Anna", "Lars", "Marta", "Jonas", "Elena", "Paul", "Ines", "Tomas", "Sara", "Omar")
