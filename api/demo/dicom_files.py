"""DICOM instances of the demo's people: headers only (no pixel data), one instance a series, so
that thousands of studies are written in seconds. Each carries what a real export does: the
patient's name, ID and birth date (made up, removed by the harvester), UIDs, scanner, protocol
and acquisition parameters, SOP class (SEG and SR for annotations).

Every value is text (strings, decimal and integer strings, UIDs), so instances are encoded here
directly as Explicit VR Little Endian Part 10 files: pydicom's writer would take a hundred times
longer, and pydicom reads what this writes (the tests harvest it).
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator
from functools import cache
from pathlib import Path

from pydicom.datadict import dictionary_VR, tag_for_keyword
from pydicom.uid import PYDICOM_IMPLEMENTATION_UID, ExplicitVRLittleEndian, generate_uid

from api.demo.population import Person, Series, Study

Header = dict[str, str]
UID_ROOT = "1.2.826.0.1.3680043.8.498."  # pydicom's root for generated UIDs
SOP_CLASSES = {
    "MR": "1.2.840.10008.5.1.4.1.1.4",
    "CT": "1.2.840.10008.5.1.4.1.1.2",
    "PT": "1.2.840.10008.5.1.4.1.1.128",
    "SEG": "1.2.840.10008.5.1.4.1.1.66.4",
    "SR": "1.2.840.10008.5.1.4.1.1.88.33",
}


def instances(people: list[Person]) -> Iterator[tuple[str, Header]]:
    """(relative path, instance) of every series of `people`, in a typical export's layout."""
    for person in people:
        for study in person.studies:
            for series in study.series:
                path = f"{person.patient_id}/{study.key}/SE{series.number:03d}/IM0001.dcm"
                yield path, instance(person, study, series)


def instance(person: Person, study: Study, series: Series) -> Header:
    key, modality, description, tr, te, ti, flip, agent = series.protocol
    manufacturer, model, tesla = study.scanner
    ds = _patient_and_study(person, study)
    ds |= {
        "Modality": modality,
        "SOPClassUID": SOP_CLASSES[modality],
        "SeriesInstanceUID": generate_uid(UID_ROOT, [f"{study.key}-{series.number}"]),
        "SOPInstanceUID": generate_uid(UID_ROOT, [f"{study.key}-{series.number}-1"]),
        "SeriesNumber": str(series.number),
        "InstanceNumber": "1",
        "SeriesDescription": description,
        "ProtocolName": description,
        "Manufacturer": manufacturer,
        "ManufacturerModelName": model,
        "InstitutionName": "Demo Hospital",  # free text of the kind the profile drops
    }
    if modality == "MR" and tesla is not None:
        ds |= {"MagneticFieldStrength": str(tesla), "RepetitionTime": str(tr),
               "EchoTime": str(te), "FlipAngle": str(flip),
               "SliceThickness": "1.0" if key.startswith("T1") else "4.0",
               "ImageType": "ORIGINAL\\PRIMARY\\M\\ND",
               "ImagesInAcquisition": str(series.slices)}  # fmt: skip
        if ti is not None:
            ds["InversionTime"] = str(ti)
    elif modality in ("CT", "PT"):
        thickness = "1.0" if "1.0" in description else "5.0" if modality == "CT" else "3.27"
        ds |= {"SliceThickness": thickness, "ImageType": "ORIGINAL\\PRIMARY\\AXIAL"}
    else:
        ds["ImageType"] = "DERIVED\\PRIMARY"
    if agent is not None:
        ds["ContrastBolusAgent"] = agent
    return ds


def _patient_and_study(person: Person, study: Study) -> Header:
    return {
        "SpecificCharacterSet": "ISO_IR 100",
        "PatientName": person.name,
        "PatientID": person.patient_id,
        "PatientSex": person.sex,
        "PatientBirthDate": f"{person.birth_year}0{1 + study.age % 9}1{study.age % 9}",
        "PatientAge": f"{study.age:03d}Y",
        "StudyInstanceUID": generate_uid(UID_ROOT, [study.key]),
        "StudyDate": f"{study.year}{1 + study.age % 12:02d}15",
        "SeriesDate": f"{study.year}{1 + study.age % 12:02d}15",
        "StudyTime": "101500",
        "AccessionNumber": f"ACC{zlib.crc32(study.key.encode()):010d}",
        "StudyDescription": study.description,
        "BodyPartExamined": study.body_part,
    }


def encode(header: Header) -> bytes:
    """The instance as a DICOM Part 10 file (Explicit VR Little Endian)."""
    meta = b"".join(
        _element(keyword, value)
        for keyword, value in (
            ("MediaStorageSOPClassUID", header["SOPClassUID"]),
            ("MediaStorageSOPInstanceUID", header["SOPInstanceUID"]),
            ("TransferSyntaxUID", ExplicitVRLittleEndian),
            ("ImplementationClassUID", PYDICOM_IMPLEMENTATION_UID),
        )
    )
    version = struct.pack("<HH2sHI", 0x0002, 0x0001, b"OB", 0, 2) + b"\x00\x01"
    meta = version + meta
    length = struct.pack("<HH2sHI", 0x0002, 0x0000, b"UL", 4, len(meta))
    body = b"".join(_element(k, v) for k, v in sorted(header.items(), key=lambda i: _tag(i[0])))
    return b"\x00" * 128 + b"DICM" + length + meta + body


@cache
def _tag(keyword: str) -> int:
    tag = tag_for_keyword(keyword)
    if tag is None:
        raise KeyError(keyword)
    return tag


def _element(keyword: str, value: str) -> bytes:
    tag = _tag(keyword)
    vr = dictionary_VR(tag)
    data = value.encode("latin-1")
    if len(data) % 2:
        data += b"\x00" if vr == "UI" else b" "
    return struct.pack("<HH2sH", tag >> 16, tag & 0xFFFF, vr.encode(), len(data)) + data


def write_export(folder: Path, people: list[Person]) -> int:
    """Write the people's instances under `folder`; returns the number of files."""
    count = 0
    for relative, header in instances(people):
        path = folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(encode(header))
        count += 1
    return count
