"""Test inputs for de-identification.

The PHI corpus: real DICOM files from pydicom's test data with a distinctive fake identifier in
every attribute the de-identification profile lists (valid for its VR), in nested and private
sequences, in private tags, and inside the allow-listed free text that screening must clean.
`write_phi_corpus(folder)` writes the files and returns the PHI strings that must never appear
in anything de-identification produces. The output is the same, byte for byte, every time.

And datasets in the other shapes sources deliver: `implicit` (a C-FIND answer, decoded from
implicit VR bytes, malformed values and all), `from_json` and `dicomweb` (DICOM JSON).
"""

from __future__ import annotations

import datetime as dt
import io
import json
import struct
from collections.abc import Callable
from pathlib import Path

import pydicom
from pydicom import Dataset
from pydicom.data import get_testdata_file
from pydicom.datadict import dictionary_VR, tag_for_keyword
from pydicom.filereader import read_dataset
from pydicom.sequence import Sequence

from harvesters.dicom.profiles import Profile, load_profile

#: Source files (all shipped with pydicom, none fetched from its download list) and what to call
#: the corpus copy. The last one is a mouse in UTF-8, with non-ASCII names.
SOURCES = (
    ("MR_small.dcm", "mr.dcm"),
    ("CT_small.dcm", "ct.dcm"),
    ("liver_1frame.dcm", "seg.dcm"),
    ("JPEG2000.dcm", "nm.dcm"),
    ("MR_small.dcm", "mouse-utf8.dcm"),
)
DICOMWEB = Path(__file__).resolve().parents[3] / "shared" / "data" / "dicomweb"
MARK = "7f3a"
BIRTH = dt.date(1923, 4, 17)
UID_ROOT = "1.2.826.0.1.3680043.8.498.999"

# People whose names the free text below mentions; every other PN gets a generated name.
NAMES = {
    "PatientName": "PHIFAMILY^PHIGIVEN^PHIMIDDLE",
    "OtherPatientNames": "PHIALIAS^PHIALIASGIVEN",
    "OperatorsName": "PHIOPERATOR^PHIOPGIVEN",
    "ReferringPhysicianName": "PHIREFERRER^PHIREFGIVEN",
}
UTF8_NAMES = {"PatientName": "PHIMÜLLER^PHIJOSÉ", "PerformingPhysicianName": "PHIØPERATÖR^PHIÅSA"}
IDS = {"PatientID": "PHIID7F3A", "AccessionNumber": "PHIACC7F3A", "StudyID": "PHISTUDY7F3A"}
# What the profile keeps (derived, not copied): plausible values, not PHI strings.
RETAINED = {"PatientSex": "F", "PatientAge": "093Y"}

#: Allow-listed text with identifiers screening must find: names and IDs of this dataset,
#: dates in several spellings, an e-mail address, a phone number, a long digit run.
SCREENED_TEXT = {
    "SeriesDescription": "FLAIR PHIFAMILY 19230417",
    "StudyDescription": "MRT Kopf PHIACC7F3A phi.patient@example.org",
    "ProtocolName": "t1_mprage_sag PHIGIVEN (555) 919-1919",
    "SequenceName": "*tfl_PHIID7F3A",
    "BodyPartExamined": "HEAD 19230417",
    "Manufacturer": "Acme PHIOPERATOR 17.04.1923",
    "ManufacturerModelName": "Skyra PHIREFERRER 1923-04-17",
    "PatientSpeciesDescription": "Homo sapiens PHIALIAS",
    "StrainDescription": "none PHIMIDDLE 555 919 1919 17/04/1923",
}
UTF8_TEXT = {
    "SeriesDescription": "T2 PHIMÜLLER 17 Apr 1923",
    "ProtocolName": "t2_tse_cor PHIØPERATÖR PHIJOSÉ",
    "PatientSpeciesDescription": "Mus musculus",
    "StrainDescription": "C57BL/6J",
}
#: The fragments of SCREENED_TEXT that are PHI (the rest is ordinary description).
SCREENED_PHI = (
    "PHIFAMILY", "PHIGIVEN", "PHIMIDDLE", "PHIALIAS", "PHIOPERATOR", "PHIREFERRER", "PHIMÜLLER",
    "PHIØPERATÖR", "PHIJOSÉ", "19230417", "17.04.1923", "1923-04-17", "17/04/1923", "17 Apr 1923",
    "phi.patient@example.org", "919-1919", "555 919 1919", "PHIACC7F3A", "PHIID7F3A",
)  # fmt: skip


def write_phi_corpus(folder: Path) -> list[str]:
    """Write the corpus into `folder`; return every PHI string in it, sorted."""
    folder.mkdir(parents=True, exist_ok=True)
    profile = load_profile()
    phi: set[str] = set(SCREENED_PHI)
    for number, (source, name) in enumerate(SOURCES, start=1):
        ds = pydicom.dcmread(pydicom_file(source))
        filler = _Filler(profile, number, phi)
        filler.fill(ds, utf8=name.endswith("utf8.dcm"))
        ds.save_as(folder / name, enforce_file_format=True)
    return sorted(phi)


class _Filler:
    """Puts PHI into one dataset, recording every string it puts."""

    def __init__(self, profile: Profile, number: int, phi: set[str]) -> None:
        self.profile = profile
        self.number = number
        self.phi = phi

    def fill(self, ds: Dataset, *, utf8: bool) -> None:
        if utf8:
            ds.SpecificCharacterSet = "ISO_IR 192"
        for index, attribute in enumerate(self.profile.removed):
            group = attribute.tag >> 16
            if group == 0x0000:
                continue  # command attributes never occur in a stored dataset
            target = ds.file_meta if group == 0x0002 else ds
            vr = dictionary_VR(attribute.tag).split(" ")[0]
            target.add_new(attribute.tag, vr, self.value(attribute.keyword, vr, index))
        names = NAMES | (UTF8_NAMES if utf8 else {})
        for keyword, value in {**names, **IDS, **RETAINED}.items():
            setattr(ds, keyword, value)
            self.phi.update(_name_parts(value) if "^" in value else [value])
        self.phi.discard(RETAINED["PatientSex"])
        for keyword, value in (SCREENED_TEXT | (UTF8_TEXT if utf8 else {})).items():
            setattr(ds, keyword, value)
        ds.ImageType = ["ORIGINAL", "PRIMARY", "M", "19230417"]
        self._private(ds)
        overlay = self._record(f"PHI-OVERLAY-COMMENTS-{MARK}")  # a repeating group (60xx)
        ds.add_new(0x60004000, "LT", overlay)
        ds.RequestAttributesSequence = Sequence([self._request_item()])
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID

    def value(self, keyword: str, vr: str, index: int) -> object:
        """A PHI value valid for `vr`, recorded (binary numbers are not strings to look for)."""
        if vr == "SQ":
            return Sequence([self._item(keyword, index)])
        if vr in _NUMBERS:
            return _NUMBERS[vr]
        text = _TEXT.get(vr, _long_text)(keyword, index, self.number)
        self.phi.update(_name_parts(text) if vr == "PN" else [text])
        return text.encode("ascii") + b"\0" * (len(text) % 2) if vr in _BYTES else text

    def _item(self, keyword: str, index: int) -> Dataset:
        item = Dataset()
        item.CodeMeaning = self._record(f"PHI-{keyword[:40]}-ITEM-{MARK}")
        item.PatientName = self._record(f"PHISQ{index:03d}^PHINESTED")
        item.ReferencedSOPInstanceUID = self._record(_uid(index, self.number, 1))
        nested = Dataset()
        nested.ReferencedSOPInstanceUID = self._record(_uid(index, self.number, 2))
        nested.PatientID = self._record(f"PHI-NESTED-{index:03d}-{MARK}")
        item.ReferencedStudySequence = Sequence([nested])
        return item

    def _request_item(self) -> Dataset:
        item = self._item("RequestAttributesSequence", 999)
        item.RequestedProcedureID = self._record(f"PHIRQ{MARK}")
        item.ScheduledProcedureStepID = self._record(f"PHISPS{MARK}")
        item.RequestedProcedureDescription = self._record(f"PHI-REQUESTED-{MARK}")
        item.AccessionNumber = self._record(f"PHIRQACC{MARK}")
        return item

    def _private(self, ds: Dataset) -> None:
        creator = self._record(f"PHI CREATOR {MARK}")
        block = ds.private_block(0x0029, creator, create=True)
        block.add_new(0x10, "LO", self._record(f"PHI-PRIVATE-LO-{MARK}"))
        block.add_new(0x11, "PN", self._record("PHIPRIVATE^PHIPERSON"))
        block.add_new(0x12, "DA", self._record("19230419"))
        item = Dataset()
        item.PatientName = self._record("PHIPRIVSEQ^PHINESTED")
        inner = item.private_block(0x0031, creator, create=True)
        inner.add_new(0x01, "LO", self._record(f"PHI-PRIVATE-NESTED-{MARK}"))
        block.add_new(0x13, "SQ", Sequence([item]))

    def _record(self, value: str) -> str:
        self.phi.update(_name_parts(value) if "^" in value else [value])
        return value


def pydicom_file(name: str) -> str:
    """A file of pydicom's bundled test data (never one it would download)."""
    path = get_testdata_file(name, download=False)
    assert isinstance(path, str), f"{name} is not in pydicom's bundled test data"
    return path


def _name_parts(name: str) -> list[str]:
    return [name, *(part for part in name.replace("=", "^").split("^") if part)]


def _uid(index: int, number: int, salt: int = 0) -> str:
    return f"{UID_ROOT}{number}{salt}.{index}"


def _date(index: int) -> str:
    return (BIRTH + dt.timedelta(days=index)).strftime("%Y%m%d")


def _time(index: int) -> str:
    return f"09{index % 60:02d}19.919191"


def _long_text(keyword: str, index: int, number: int) -> str:
    return f"PHI-{keyword[:50]}-{MARK}"


_TEXT: dict[str, Callable[[str, int, int], str]] = {
    "AE": lambda keyword, index, number: f"PHI{index:03d}AE",
    "AS": lambda keyword, index, number: RETAINED["PatientAge"],
    "CS": lambda keyword, index, number: f"PHI{index:03d}CS",
    "SH": lambda keyword, index, number: f"PHI{index:03d}-{MARK}",
    "DA": lambda keyword, index, number: _date(index),
    "TM": lambda keyword, index, number: _time(index),
    "DT": lambda keyword, index, number: _date(index) + _time(index),
    "DS": lambda keyword, index, number: f"91{index:03d}.919",
    "IS": lambda keyword, index, number: f"91{index:03d}9",
    "UI": lambda keyword, index, number: _uid(index, number),
    "UR": lambda keyword, index, number: f"https://phi.invalid/{keyword}-{MARK}",
    "PN": lambda keyword, index, number: f"PHIPN{index:03d}^PHIPNGIVEN{index:03d}",
}
_BYTES = frozenset({"OB", "OW", "OD", "OF", "OL", "OV", "UN"})
_NUMBERS: dict[str, object] = {
    "US": 919, "SS": 919, "UL": 91919, "SL": 91919, "FL": 91.9, "FD": 91.9, "AT": 0x00100010,
}  # fmt: skip


# --- other shapes ----------------------------------------------------------------------------


def implicit(**values: str) -> Dataset:
    """A dataset decoded from implicit VR little endian bytes, as DIMSE (C-FIND) delivers it:
    raw elements, no VR on the wire, values exactly as written (malformed ones included)."""
    stream = b""
    for keyword, value in sorted(values.items(), key=lambda kv: tag_for_keyword(kv[0]) or 0):
        tag = tag_for_keyword(keyword)
        assert tag is not None, keyword
        raw = value.encode("latin-1")
        raw += (b"\0" if dictionary_VR(tag) == "UI" else b" ") * (len(raw) % 2)
        stream += struct.pack("<HHI", tag >> 16, tag & 0xFFFF, len(raw)) + raw
    return read_dataset(io.BytesIO(stream), is_implicit_VR=True, is_little_endian=True)


def from_json(**elements: tuple[str, object]) -> Dataset:
    """A dataset decoded from DICOM JSON (keyword=(VR, value); a None value has no "Value")."""
    data = {
        f"{tag_for_keyword(k):08X}": {"vr": vr, **({} if v is None else {"Value": [v]})}
        for k, (vr, v) in elements.items()
    }
    return Dataset.from_json(data)


def dicomweb(name: str) -> list[Dataset]:
    """The datasets of a recorded DICOMweb answer in ../shared/data/dicomweb."""
    data = json.loads((DICOMWEB / name).read_text())
    items = data if isinstance(data, list) else [data]
    return [Dataset.from_json(i, bulk_data_uri_handler=lambda tag, vr, uri: b"") for i in items]
