"""The real recorded XNAT responses and documents in `../shared/data/xnat/`, as a `StaticSite` for
the XNAT contract server (`api.demo.xnat_server`; generated sites: `api.demo.xnat_site`).

Recorded (`recorded_site()`):
- project `TEST_Viewer`: the subject and experiment `ResultSet`s recorded from a production XNAT
  (OHIF's test data), byte for byte at their recorded paths; at the project-level paths the same
  rows, with `subject_ID` added as the `columns` parameter adds it. Its CT session's scans come
  from XNAT's own DICOM extraction of a CT series (`dicom_extraction_ctSeriesAttributes.json`),
  written as XNAT writes a session document.
- project `NRG_TESTS`: XNAT's REST test payloads served as experiment documents as they are:
  `test_expt_v1.xml`, `test_expt_v2.xml`, `test_expt_bad_date.xml` (a year where a date goes),
  `test_expt_bad_URI.xml` (a resource URI with a space), pyxnat's `sess.xml` (GE scanner, field
  strength, `dcmPatient*` elements, no scans), and a session built from XNAT's DICOM extraction
  of an MR session and series (with the patient's name, ID and birth date in it). Subjects carry
  the demographics of `test_subject_v1..v3.xml`; scan listings are derived from the documents.
- project `HOSTILE` (with `hostile=True`): documents that are a billion-laughs bomb, an external
  entity, not XML, and an XML document that is not an XNAT experiment.
"""

from __future__ import annotations

import json
from pathlib import Path

from lxml import etree

from api.demo.xnat_site import StaticSite, add_project, scan_row, session_document

DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "xnat"
NRG = DATA / "nrg-xnat-rest-tests"
# Identifiers planted in the data: none may ever reach a record.
PHI = ("Sample Patient", "Sample ID", "1975-12-31", "1991-04-30", "QIN-HEADNECK-01-0003")


def _scans_of(document: bytes) -> list[dict[str, str]]:
    """The scan listing fields of a recorded document (read with our test's own parser)."""
    root = etree.fromstring(document, etree.XMLParser(resolve_entities=False))
    ns = {"xnat": "http://nrg.wustl.edu/xnat"}
    xsi = "{http://www.w3.org/2001/XMLSchema-instance}type"
    return [
        {
            "ID": scan.get("ID"),
            "type": scan.get("type", ""),
            "xsiType": scan.get(xsi, ""),
            "quality": scan.findtext("xnat:quality", "", ns),
            "series_description": scan.findtext("xnat:series_description", "", ns),
        }
        for scan in root.iterfind("xnat:scans/xnat:scan", ns)
    ]


def recorded_site(*, hostile: bool = False) -> StaticSite:
    site = StaticSite()
    _ohif(site)
    _nrg(site)
    if hostile:
        _hostile(site)
    return site


def _ohif(site: StaticSite) -> None:
    subjects_raw = (DATA / "ohif-recorded" / "TEST_Viewer_subjects.json").read_bytes()
    experiments_raw = (
        DATA / "ohif-recorded" / "TEST_Viewer_XNAT_JPETTS_S00032_experiments.json"
    ).read_bytes()
    add_project(site, "TEST_Viewer", "public", "TEST Viewer")
    site.raw_paths["/data/archive/projects/TEST_Viewer/subjects"] = subjects_raw
    site.raw_paths["/data/archive/projects/TEST_Viewer/subjects/XNAT_JPETTS_S00032/experiments"] = (
        experiments_raw
    )
    site.subject_rows["TEST_Viewer"] = json.loads(subjects_raw)["ResultSet"]["Result"]
    for row in json.loads(experiments_raw)["ResultSet"]["Result"]:
        site.experiment_rows["TEST_Viewer"].append({**row, "subject_ID": "XNAT_JPETTS_S00032"})
    ct = json.loads((NRG / "dicom_extraction_ctSeriesAttributes.json").read_text())
    ct["xsiType"] = "xnat:ctScanData"
    site.documents["XNAT_JPETTS_E00039"] = session_document("CTSession", {"modality": "CT"}, [ct])
    site.scan_rows["XNAT_JPETTS_E00039"] = [scan_row("XNAT_JPETTS_E00039", ct["ID"], ct)]
    pet = {"ID": "1", "type": "PET AC", "xsiType": "xnat:petScanData", "quality": "usable"}
    site.documents["XNAT_JPETTS_E00037"] = session_document(
        "PETSession", {"modality": "PET"}, [pet]
    )
    site.scan_rows["XNAT_JPETTS_E00037"] = [scan_row("XNAT_JPETTS_E00037", "1", pet)]


def _nrg_subjects(site: StaticSite) -> None:
    ns = {"xnat": "http://nrg.wustl.edu/xnat"}
    for n in (1, 2, 3):
        root = etree.fromstring((NRG / f"test_subject_v{n}.xml").read_bytes())
        demographics = root.find("xnat:demographics", ns)
        site.subject_rows["NRG_TESTS"].append(
            {
                "ID": f"NRG_S0{n}",
                "label": f"NRG-SUBJECT-{n}",
                "project": "NRG_TESTS",
                "gender": demographics.findtext("xnat:gender", "", ns),
                "dob": demographics.findtext("xnat:dob", "", ns) if n != 2 else "",
                "yob": "" if n != 2 else "1990",
                "group": root.get("group", ""),
                "insert_date": f"2020-01-0{n} 10:00:00.0",
                "URI": f"/data/subjects/NRG_S0{n}",
            }
        )


def _nrg(site: StaticSite) -> None:
    add_project(site, "NRG_TESTS", "private", "XNAT REST tests")
    _nrg_subjects(site)
    mr_session = json.loads((NRG / "dicom_extraction_mrSessionAttributes.json").read_text())
    mr_series = json.loads((NRG / "dicom_extraction_mrSeriesAttributes.json").read_text())
    mr_series["xsiType"] = "xnat:mrScanData"
    documents = {
        "NRG_E01": (NRG / "test_expt_v1.xml").read_bytes(),
        "NRG_E02": (NRG / "test_expt_v2.xml").read_bytes(),
        "NRG_E03": (NRG / "test_expt_bad_date.xml").read_bytes(),
        "NRG_E04": (NRG / "test_expt_bad_URI.xml").read_bytes(),
        "NRG_E05": (DATA / "pyxnat" / "sess.xml").read_bytes(),
        "NRG_E06": session_document("MRSession", {**mr_session, "label": "Sample ID"}, [mr_series]),
    }
    for n, (experiment, document) in enumerate(documents.items(), start=1):
        root = etree.fromstring(document)
        site.documents[experiment] = document
        site.scan_rows[experiment] = [scan_row(experiment, s["ID"], s) for s in _scans_of(document)]
        date = root.findtext("{http://nrg.wustl.edu/xnat}date") or ""
        site.experiment_rows["NRG_TESTS"].append(
            {
                "ID": experiment,
                "label": root.get("label") or experiment,
                "project": "NRG_TESTS",
                "xsiType": "xnat:mrSessionData",
                "date": date if len(date) == 10 else "",
                "subject_ID": f"NRG_S0{(n - 1) % 3 + 1}",
                "insert_date": f"2021-02-{n:02d} 09:00:00.{n}",
                "URI": f"/data/experiments/{experiment}",
            }
        )


HOSTILE_DOCUMENTS = {
    "HOST_E1": b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol">
<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">]>
<xnat:MRSession xmlns:xnat="http://nrg.wustl.edu/xnat"><xnat:date>&lol4;</xnat:date></xnat:MRSession>""",
    "HOST_E2": b"""<?xml version="1.0"?>
<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<xnat:MRSession xmlns:xnat="http://nrg.wustl.edu/xnat">
<xnat:scanner manufacturer="&xxe;"/></xnat:MRSession>""",
    "HOST_E3": b"<xnat:MRSession xmlns:xnat='http://nrg.wustl.edu/xnat'><xnat:scans><xnat:scan",
    "HOST_E4": b"<html><body>not an experiment</body></html>",
}


def _hostile(site: StaticSite) -> None:
    add_project(site, "HOSTILE", "public")
    site.subject_rows["HOSTILE"].append({"ID": "HOST_S1", "label": "HOST-1", "project": "HOSTILE"})
    for n, (experiment, document) in enumerate(HOSTILE_DOCUMENTS.items(), start=1):
        site.documents[experiment] = document
        site.scan_rows[experiment] = [
            scan_row(experiment, "1", {"type": "T1", "xsiType": "xnat:mrScanData"})
        ]
        site.experiment_rows["HOSTILE"].append(
            {
                "ID": experiment,
                "label": f"HOST-1-{n}",
                "xsiType": "xnat:mrSessionData",
                "date": "2022-03-04",
                "subject_ID": "HOST_S1",
                "insert_date": f"2022-03-04 08:00:0{n}.000",
            }
        )
