"""De-identification at the edge: no PHI leaves `Deidentifier.clean`, whatever the input shape
(files, DICOM JSON, C-FIND answers), and what does leave is still useful."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import re
from pathlib import Path
from typing import Any

import pydicom
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from pydicom import Dataset
from pydicom.datadict import dictionary_VR
from pydicom.sequence import Sequence

from catalogue.errors import ConfigurationError, SkippableHarvestError
from catalogue.models import Sex
from harvesters.dicom.deid import (
    DateMode,
    DeidentificationError,
    Deidentifier,
    identifiers,
    load_profile,
    parse_age,
    screen_text,
)
from harvesters.dicom.header import CleanHeader
from tests.harvesters.phi_corpus import (
    dicomweb,
    from_json,
    implicit,
    pydicom_file,
    write_phi_corpus,
)

PROFILE_FILE = Path(__file__).resolve().parents[2] / "harvesters/dicom/profiles/basic-1.yaml"
SECRET = b"site-secret-0123456789abcdef"
OTHER_SECRET = b"another-site-secret-987654321"
PATIENT_NAME = 0x00100010
DATE_LIKE = re.compile(r"\d{6}|\d{4}-\d{2}-\d{2}|\d{2}\.\d{2}\.\d{4}|\d{2}/\d{2}/\d{4}")
STUDY_UID = "1.2.826.0.1.3680043.8.498.1"
SERIES_UID = "1.2.826.0.1.3680043.8.498.2"


def series(**values: str) -> Dataset:
    """A sparse C-FIND answer at series level with the keys every clean() needs."""
    keys = {"PatientID": "PAT-1", "StudyInstanceUID": STUDY_UID, "SeriesInstanceUID": SERIES_UID}
    return implicit(**(keys | values))


def json_ds(**elements: tuple[str, object]) -> Dataset:
    keys = {"StudyInstanceUID": ("UI", STUDY_UID), "SeriesInstanceUID": ("UI", SERIES_UID)}
    return from_json(**(keys | elements))


Corpus = tuple[dict[str, Path], list[str]]


def leaks(header: CleanHeader, phi: list[str]) -> list[str]:
    text = repr(header).casefold()
    return [p for p in phi if p.casefold() in text]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Corpus:
    folder = tmp_path_factory.mktemp("phi")
    phi = write_phi_corpus(folder)
    return {p.name: p for p in sorted(folder.glob("*.dcm"))}, phi


# --- the PHI corpus ------------------------------------------------------------------------
@pytest.mark.parametrize("date_mode", ["year", "shift"])
def test_no_phi_leaves_the_corpus(corpus: Corpus, date_mode: DateMode) -> None:
    paths, phi = corpus
    deid = Deidentifier(SECRET, date_mode=date_mode)
    for name, path in paths.items():
        header = deid.clean(pydicom.dcmread(path, stop_before_pixels=True))
        assert leaks(header, phi) == [], name


def test_no_phi_leaves_decoded_or_json_corpus(corpus: Corpus) -> None:
    """The same files with every element decoded by pydicom first, and as DICOM JSON."""
    paths, phi = corpus
    deid = Deidentifier(SECRET)
    for name, path in paths.items():
        ds = pydicom.dcmread(path, stop_before_pixels=True)
        decoded = [elem.value for elem in ds]  # converts every raw element in place
        assert decoded
        assert leaks(deid.clean(ds), phi) == [], name
        as_json = Dataset.from_json(ds.to_json_dict())
        assert leaks(deid.clean(as_json), phi) == [], name


def test_corpus_puts_phi_in_every_profile_attribute(corpus: Corpus) -> None:
    paths, phi = corpus
    profile = load_profile()
    for name, path in paths.items():
        ds = pydicom.dcmread(path)
        for attribute in profile.removed:
            if attribute.tag >> 16 == 0x0000:
                continue  # command attributes never occur in a stored dataset
            holder = ds.file_meta if attribute.tag >> 16 == 0x0002 else ds
            assert attribute.tag in holder and holder[attribute.tag].value, (name, attribute)
        block = ds.private_block(0x0029, "PHI CREATOR 7f3a")
        assert block[0x13].value[0].PatientName == "PHIPRIVSEQ^PHINESTED"
    assert {"PHIFAMILY", "PHIID7F3A", "19230417", "PHI-PRIVATE-LO-7f3a"} <= set(phi)


def test_corpus_is_deterministic(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    assert write_phi_corpus(first) == write_phi_corpus(second)
    names = sorted(p.name for p in first.iterdir())
    assert names == sorted(p.name for p in second.iterdir())
    assert all((first / n).read_bytes() == (second / n).read_bytes() for n in names)


def test_corpus_screening_keeps_the_descriptions(corpus: Corpus) -> None:
    paths, _ = corpus
    deid = Deidentifier(SECRET)
    mr = deid.clean(pydicom.dcmread(paths["mr.dcm"], stop_before_pixels=True))
    assert mr.series_description == "FLAIR [removed] [removed]"
    assert mr.protocol_name == "t1_mprage_sag [removed] [removed]"
    assert mr.study_description == "MRT Kopf [removed] [removed]"
    assert mr.sequence_name == "*tfl_[removed]"
    assert mr.body_part == "HEAD [removed]"
    assert mr.image_type == ("ORIGINAL", "PRIMARY", "M")
    assert (mr.modality, mr.sex, mr.age_years, mr.contrast_agent) == ("MR", Sex.FEMALE, 90, True)
    mouse = deid.clean(pydicom.dcmread(paths["mouse-utf8.dcm"], stop_before_pixels=True))
    assert (mouse.species, mouse.strain) == ("Mus musculus", "C57BL/6J")
    assert mouse.series_description == "T2 [removed] [removed]"
    assert mouse.protocol_name == "t2_tse_cor [removed] [removed]"


def test_nothing_is_logged(corpus: Corpus, caplog: pytest.LogCaptureFixture) -> None:
    paths, _ = corpus
    caplog.set_level(logging.DEBUG)
    deid = Deidentifier(SECRET)
    for path in paths.values():
        deid.clean(pydicom.dcmread(path, stop_before_pixels=True))
    assert caplog.records == []


@pytest.mark.parametrize(
    "name", ["MR_small.dcm", "CT_small.dcm", "JPEG2000.dcm", "liver_1frame.dcm"]
)
def test_real_files_copy_no_listed_name_date_or_uid(name: str) -> None:
    ds = pydicom.dcmread(pydicom_file(name), stop_before_pixels=True)
    header = Deidentifier(SECRET).clean(ds)
    listed = [
        str(ds[a.tag].value)
        for a in load_profile().removed
        if a.tag in ds and dictionary_VR(a.tag) in {"PN", "DA", "DT", "TM", "UI"}
    ]
    assert listed
    assert leaks(header, [v for v in listed if len(v) >= 6]) == []


# --- pseudonyms ------------------------------------------------------------------------------
def test_pseudonyms_are_keyed_hmacs() -> None:
    header = Deidentifier(SECRET).clean(series())
    macs = [
        hmac.new(SECRET, f"{kind}\0{value}".encode(), hashlib.sha256).hexdigest()[:32]
        for kind, value in [("subject", "PAT-1"), ("study", STUDY_UID), ("series", SERIES_UID)]
    ]
    assert [header.subject, header.study, header.series] == macs


def test_pseudonyms_are_stable_per_secret_and_differ_across_secrets() -> None:
    one, two = Deidentifier(SECRET).clean(series()), Deidentifier(SECRET).clean(series())
    other = Deidentifier(OTHER_SECRET).clean(series())
    assert (one.subject, one.study, one.series) == (two.subject, two.study, two.series)
    assert {one.subject, one.study, one.series}.isdisjoint({other.subject, other.study})
    assert one.series != other.series
    assert len({one.subject, one.study, one.series}) == 3  # the kinds are separate domains


def test_one_patient_one_pseudonym_across_source_shapes() -> None:
    """Padded file bytes, a JSON value and a C-FIND answer name the same patient alike."""
    deid = Deidentifier(SECRET)
    as_json = json_ds(PatientID=("LO", "PAT-1"))
    padded = series(PatientID="PAT-1 ")
    assert deid.clean(as_json).subject == deid.clean(padded).subject == deid.clean(series()).subject


@pytest.mark.parametrize("options", [{"secret": b"short"}, {"date_mode": "month"}])
def test_a_short_secret_or_unknown_date_mode_is_refused(options: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError):
        Deidentifier(**({"secret": SECRET} | options))


# --- missing keys ----------------------------------------------------------------------------
def test_missing_patient_id_is_skippable_names_no_value_or_keys_on_the_study() -> None:
    ds = implicit(PatientName="Doe^Jane", StudyInstanceUID=STUDY_UID, SeriesInstanceUID="1.2")
    with pytest.raises(DeidentificationError) as caught:
        Deidentifier(SECRET).clean(ds)
    assert isinstance(caught.value, SkippableHarvestError)
    assert str(caught.value) == "PatientID is missing"
    deid = Deidentifier(SECRET, missing_patient_id="study")
    assert deid.clean(ds).subject == deid.pseudonym("subject-of-study", STUDY_UID)
    assert deid.clean(ds).subject != deid.pseudonym("subject", STUDY_UID)


# --- ages, years and dates -------------------------------------------------------------------
AGES = {
    "045Y": 45.0, "006M": 0.5, "010W": 0.19, "003D": 0.01, "089Y": 89.0, "090Y": 90.0,
    "105Y": 90.0, "045y": 45.0, "45": 45.0, "0045Y": 45.0, "000Y": 0.0, "999Y": None, "": None,
    "Y": None, "-45Y": None, "45 years": None, "045X": None,
}  # fmt: skip


@pytest.mark.parametrize(("value", "years"), [*AGES.items(), (None, None)])
def test_parse_age(value: str | None, years: float | None) -> None:
    assert parse_age(value) == years


@given(st.text(max_size=12))
def test_parse_age_never_fails_and_stays_in_range(value: str) -> None:
    years = parse_age(value)
    assert years is None or 0 <= years <= 90


@given(st.integers(0, 999), st.sampled_from("DWMY"))
def test_parse_age_reads_every_valid_age_string(number: int, unit: str) -> None:
    years = number / {"D": 365.25, "W": 365.25 / 7, "M": 12, "Y": 1}[unit]
    want = None if years > 150 else 90.0 if years >= 90 else pytest.approx(years, abs=0.006)
    assert parse_age(f"{number:03d}{unit}") == want


# The day before the 39th birthday, the day of it, under a year, 95 (capped), not born yet.
BIRTHS = {
    "19800312": 38.0, "19800311": 39.0, "20181211": 0.25, "19230417": 90.0, "20200101": None,
    "notadate": None,
}  # fmt: skip


@pytest.mark.parametrize(("birth", "age"), BIRTHS.items())
def test_age_from_birth_and_study_dates(birth: str, age: float | None) -> None:
    header = Deidentifier(SECRET).clean(series(PatientBirthDate=birth, StudyDate="20190311"))
    assert header.age_years == age


def test_patient_age_wins_and_other_dates_stand_in_for_the_study_date() -> None:
    deid = Deidentifier(SECRET)
    stated = series(PatientAge="040Y", PatientBirthDate="19800311", StudyDate="20190311")
    assert deid.clean(stated).age_years == 40.0
    sparse = series(PatientBirthDate="19800311", AcquisitionDate="20190311")
    assert (deid.clean(sparse).age_years, deid.clean(sparse).study_year) == (39.0, 2019)
    assert deid.clean(series(StudyDate="")).study_year is None


def test_year_mode_and_shift_mode() -> None:
    ds = series(StudyDate="20190311", PatientAge="040Y")
    year, shift = Deidentifier(SECRET).clean(ds), Deidentifier(SECRET, date_mode="shift")
    shifted = shift.clean(ds)
    days = shift.date_shift(shifted.subject)
    assert year.study_year == 2019
    assert 1 <= abs(days) <= 182
    assert shifted.study_year == (dt.date(2019, 3, 11) + dt.timedelta(days=days)).year
    assert shifted.age_years == year.age_years == 40.0
    again = Deidentifier(SECRET, date_mode="shift")
    assert again.date_shift(shifted.subject) == days
    shifts = {shift.date_shift(shift.pseudonym("subject", f"P{i}")) for i in range(40)}
    assert len(shifts) > 20 and 0 not in shifts


@pytest.mark.parametrize(
    ("value", "sex"), [("M", Sex.MALE), ("F", Sex.FEMALE), ("O", Sex.OTHER), ("", Sex.UNKNOWN)]
)
def test_sex(value: str, sex: Sex) -> None:
    assert Deidentifier(SECRET).clean(series(PatientSex=value)).sex is sex


# --- numbers and flags -----------------------------------------------------------------------
# 15000 and 30000 are gauss.
FIELDS = {
    "1.5": 1.5, "3": 3.0, "15000": 1.5, "30000": 3.0, "0.35": 0.35, "21.1": 21.1, "1.5\\3": 1.5,
    "0": None, "50": None, "-1.5": None, "abc": None, "nan": None, "": None,
}  # fmt: skip


@pytest.mark.parametrize(("value", "tesla"), FIELDS.items())
def test_field_strength(value: str, tesla: float | None) -> None:
    header = Deidentifier(SECRET).clean(series(MagneticFieldStrength=value))
    assert header.field_strength_t == tesla


def test_malformed_numbers_read_as_none_without_warnings() -> None:
    ds = series(
        SliceThickness="1,5", RepetitionTime="nan", EchoTime="-3", InversionTime="1e999",
        FlipAngle="9 0", NumberOfSeriesRelatedInstances="many",
    )  # fmt: skip
    header = Deidentifier(SECRET).clean(ds)  # warnings are errors here: none may be raised
    assert header.slice_thickness_mm is header.repetition_time_ms is header.echo_time_ms is None
    assert header.inversion_time_ms is header.flip_angle_deg is header.instance_count is None


def test_numbers_from_dicom_json_may_be_numbers_or_strings() -> None:
    ds = json_ds(
        PatientID=("LO", "P"),
        MagneticFieldStrength=("DS", 15000),
        EchoTime=("DS", "4.2"),
        SliceThickness=("DS", None),
        NumberOfSeriesRelatedInstances=("IS", 12),
    )
    header = Deidentifier(SECRET).clean(ds)
    assert (header.field_strength_t, header.echo_time_ms) == (1.5, 4.2)
    assert (header.slice_thickness_mm, header.instance_count) == (None, 12)


def _with_agent_sequence(items: int) -> Dataset:
    ds = series()
    ds.ContrastBolusAgentSequence = Sequence([Dataset() for _ in range(items)])
    return ds


@pytest.mark.parametrize(
    ("ds", "flag"),
    [
        (series(), None), (series(ContrastBolusAgent=""), False),
        (series(ContrastBolusAgent="NONE"), False), (series(ContrastBolusAgent="Gd 7 ml"), True),
        (_with_agent_sequence(1), True), (_with_agent_sequence(0), False),
    ],
)  # fmt: skip
def test_contrast_agent(ds: Dataset, flag: bool | None) -> None:
    assert Deidentifier(SECRET).clean(ds).contrast_agent is flag


# --- screening -------------------------------------------------------------------------------

NORMAL = [
    "t1_mprage_sag_p2", "AX FLAIR 3mm", "DWI b1000", "ep2d_diff_mddw_30_p2_s2",
    "Opt2 Ax Diff Nb8 Bmax=500", "T2 TSE COR 5/1.5", "MPRAGE 1.0mm iso", "3D T1 GRE post Gd",
    "PD-T2 AX 3.5mm", "Localizer 3-plane", "cine_retro_4ch 25 phases", "Sag CUBE T2 FS 0.8mm",
    "WB PET AC", "SCANNER PLANNING",
]  # fmt: skip
JANE = identifiers([(PATIENT_NAME, "Doe^Jane^^Dr"), (0x00100020, "12345678"), (0x00080050, "A12")])


@pytest.mark.parametrize("text", NORMAL)
def test_normal_descriptions_survive(text: str) -> None:
    assert screen_text(text) == text
    assert screen_text(text, JANE) == text
    assert screen_text(text, identifiers([(PATIENT_NAME, "Ann^Can")])) == text


# A PN prefix ("Dr") is not a name part; a short ID ("A12") goes only as a whole token.
SCREENED = {
    "FLAIR Doe": "FLAIR [removed]", "T1_DOE_JANE": "T1_[removed]_[removed]",
    "T1 DR knee": "T1 DR knee", "T1 id12345678x": "T1 id[removed]x",
    "acc A12 T2": "acc [removed] T2", "b A120": "b A120", "T1 987654": "T1 [removed]",
    "jane.doe@example.org T2": "[removed] T2", "T1 12.03.1999": "T1 [removed]",
    "T1 1999-03-12": "T1 [removed]", "T1 03/12/99": "T1 [removed]",
    "T1 12-Mar-1999": "T1 [removed]", "T1 March 12, 1999": "T1 [removed]",
    "call +49 30 1234567": "call [removed]", "(555) 123-4567 T1": "[removed] T1",
    "Doe 19990312": None,
}  # fmt: skip


@pytest.mark.parametrize(("text", "screened"), SCREENED.items())
def test_identifiers_are_screened(text: str, screened: str | None) -> None:
    assert screen_text(text, JANE) == screened


def test_overlong_text_is_dropped() -> None:
    assert screen_text("T1 " * 400) is None
    assert screen_text("   ") is None


@settings(max_examples=300)
@given(st.text(max_size=60) | st.text(alphabet="0123456789 ./-:()+TApr@x", max_size=40))
def test_screened_text_holds_no_long_number_or_date(text: str) -> None:
    screened = screen_text(text)
    assert screened is None or DATE_LIKE.search(screened) is None
    assert screened is None or screen_text(screened) == screened  # a fixed point


def test_removing_an_id_exposes_no_name() -> None:
    needles = identifiers([(PATIENT_NAME, "John^Q"), (0x00100020, "AB12CD")])
    assert screen_text("T1 AB12CDJOHN", needles) == "T1 [removed][removed]"


@settings(max_examples=200)
@given(
    st.from_regex(r"[A-Za-zÀ-ÖØ-öø-ÿ]{2,12}", fullmatch=True),
    st.text(alphabet=" _-0123456789T1FLAIRax", max_size=12),
    st.text(max_size=12),
    st.text(max_size=10),
)
def test_a_patients_name_never_survives(name: str, before: str, after: str, pid: str) -> None:
    needles = identifiers([(PATIENT_NAME, f"{name}^Q"), (0x00100020, pid)])
    screened = screen_text(before + name + after + pid, needles)
    if screened is not None and name.lower() not in "[removed]":
        word = re.compile(rf"(?<![^\W\d_]){re.escape(name)}(?![^\W\d_])", re.IGNORECASE)
        assert word.search(screened) is None
        assert screen_text(screened, needles) == screened


# --- DICOM JSON and C-FIND shapes ------------------------------------------------------------
def test_dicom_json_instance() -> None:
    (ds,) = dicomweb("pydicom/test1.json")
    header = Deidentifier(SECRET).clean(ds)
    assert (header.modality, header.sex, header.study_year) == ("MR", Sex.MALE, 2014)
    assert header.age_years == 51.0
    assert (header.field_strength_t, header.slice_thickness_mm, header.echo_time_ms) == (3, 4, 67)
    assert header.series_description == "Opt2 Ax Diff Nb8 Bmax=500"
    assert header.study_description == "M2197/PRO/BD Pelvis w"
    assert header.protocol_name == "[removed] With e-coil C-/"  # "Prostate" is the patient's name
    identifying = ["NOID", "Volunteer", "Brigham", "L1BAY3_GE3T", "20141210", ds.SOPInstanceUID]
    assert leaks(header, [*identifying, ds.StudyInstanceUID, ds.SeriesInstanceUID]) == []


def test_dicom_json_without_patient_id() -> None:
    (ds,) = dicomweb("pydicom/test_PN.json")  # the name is there, nested too; no ID, no UIDs
    with pytest.raises(DeidentificationError, match=r"^PatientID is missing$"):
        Deidentifier(SECRET).clean(ds)
    with pytest.raises(DeidentificationError, match=r"^StudyInstanceUID is missing$"):
        Deidentifier(SECRET, missing_patient_id="study").clean(ds)


def test_qido_series_answers() -> None:
    answers = dicomweb("dicomweb-client/search_for_series.json")
    with pytest.raises(DeidentificationError, match="PatientID"):
        Deidentifier(SECRET).clean(answers[0])
    deid = Deidentifier(SECRET, missing_patient_id="study")
    headers = [deid.clean(ds) for ds in answers]
    assert {(h.modality, h.instance_count) for h in headers} == {("SM", 1)}
    assert len({h.subject for h in headers}) == len({ds.StudyInstanceUID for ds in answers})


def test_wado_metadata_takes_its_year_from_the_content_date() -> None:
    (ds,) = dicomweb("dicomweb-client/retrieve_instance_metadata.json")
    header = Deidentifier(SECRET, missing_patient_id="study").clean(ds)
    assert (header.study_year, header.sop_class_uid) == (2018, "1.2.840.10008.5.1.4.1.1.7")


def test_study_level_answer_has_no_series_key() -> None:
    (ds,) = dicomweb("xnat-dicomweb-plugin/xnat_study.json")
    with pytest.raises(DeidentificationError) as caught:
        Deidentifier(SECRET).clean(ds)
    assert str(caught.value) == "SeriesInstanceUID is missing"


def test_c_find_answer_with_empty_return_keys() -> None:
    ds = series(
        QueryRetrieveLevel="SERIES", PatientName="", PatientAge="", StudyDate="", Modality="MR",
        SeriesDescription="", ContrastBolusAgent="", NumberOfSeriesRelatedInstances="176",
    )  # fmt: skip
    header = Deidentifier(SECRET).clean(ds)
    assert (header.modality, header.instance_count, header.contrast_agent) == ("MR", 176, False)
    assert header.age_years is None and header.study_year is None
    assert header.series_description is None
    assert header.sex is Sex.UNKNOWN


# --- the profile -----------------------------------------------------------------------------
def test_headers_carry_the_profile_files_version() -> None:
    version = yaml.safe_load(PROFILE_FILE.read_text())["version"]
    assert version == "ps3.15-basic+catalogue-1"
    assert Deidentifier(SECRET).clean(series()).profile == version
    assert load_profile(PROFILE_FILE).version == version


def test_profile_lists_the_table_e1_1_attributes() -> None:
    keywords = {a.keyword for a in load_profile().removed}
    expected = """PatientName PatientID OtherPatientIDs OtherPatientIDsSequence PatientBirthDate
        PatientBirthTime PatientAddress PatientTelephoneNumbers InstitutionName InstitutionAddress
        ReferringPhysicianName PerformingPhysicianName OperatorsName PhysiciansOfRecord
        NameOfPhysiciansReadingStudy RequestingPhysician AccessionNumber StudyID StudyInstanceUID
        SeriesInstanceUID SOPInstanceUID FrameOfReferenceUID StudyDate SeriesDate AcquisitionDate
        ContentDate StudyTime DeviceSerialNumber StationName MilitaryRank EthnicGroup Occupation
        AdditionalPatientHistory PatientComments RequestAttributesSequence ContentSequence"""
    assert set(expected.split()) <= keywords
    assert len(keywords) > 450


@pytest.mark.parametrize(
    ("field", "rule"),
    [
        ("model_name", {"keywords": ["OperatorsName"], "kind": "text"}),  # a name, even screened
        ("modality", {"keywords": ["PatientID"], "kind": "code"}),  # removed, and unscreened
        ("modality", {"keywords": ["NoSuchKeyword"], "kind": "code"}),
        ("subject", {"keywords": ["PatientID"], "kind": "text"}),  # derived, never copied
        ("modality", {"keywords": ["Modality"], "kind": "verbatim"}),
    ],
)
def test_an_unsafe_profile_is_refused(tmp_path: Path, field: str, rule: dict[str, object]) -> None:
    data = yaml.safe_load(PROFILE_FILE.read_text())
    data["allow"][field] = rule
    broken = tmp_path / "profile.yaml"
    broken.write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigurationError):
        load_profile(broken)
