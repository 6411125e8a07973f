"""The demo's XNAT: people filed into projects as XNAT lists them (subjects, image sessions, scans,
experiment documents with the patient's DICOM name and ID in them), served by the contract
server (`api.demo.xnat_server`)."""

from __future__ import annotations

from typing import Any

from api.demo.population import Person, Series, Study
from api.demo.xnat_site import Row, StaticSite, add_project, scan_row, session_document

_KINDS = {"MR": "mr", "CT": "ct", "PT": "pet"}
_TAGS = {"MR": "MRSession", "CT": "CTSession", "PT": "PETSession"}


def xnat_site(projects: dict[tuple[str, str, str], list[Person]]) -> StaticSite:
    """A site of `(project id, name, accessibility) -> people`."""
    site = StaticSite()
    n = 0
    for (project, name, access), people in projects.items():
        add_project(site, project, access, name)
        for person in people:
            site.subject_rows[project].append(_subject(project, person))
            for study in person.studies:
                n += 1
                experiment = f"DEMO_E{n:06d}"
                site.experiment_rows[project].append(
                    _experiment(project, experiment, person, study)
                )
                scans = [_scan(study, s) for s in study.series if s.protocol[1] in _KINDS]
                site.scan_rows[experiment] = [scan_row(experiment, s["ID"], s) for s in scans]
                site.documents[experiment] = session_document(
                    _TAGS[_modality(study)], _session(person, study), scans
                )
    return site


def _modality(study: Study) -> str:
    return (
        "MR" if any(s.protocol[1] == "MR" for s in study.series) else study.series[-1].protocol[1]
    )


def _subject(project: str, person: Person) -> Row:
    return {
        "ID": f"DEMO_S_{person.patient_id}",
        "label": person.patient_id,
        "project": project,
        "gender": {"M": "male", "F": "female"}[person.sex],
        "dob": "",
        "yob": str(person.birth_year),
        "group": "patient" if person.diagnosis else "",
        "insert_date": f"{person.studies[0].year}-01-02 08:00:00.0",
        "URI": f"/data/subjects/DEMO_S_{person.patient_id}",
    }


def _experiment(project: str, experiment: str, person: Person, study: Study) -> Row:
    modality = _modality(study)
    return {
        "ID": experiment,
        "label": f"{person.patient_id}_{modality}_{study.year}",
        "project": project,
        "xsiType": f"xnat:{_KINDS[modality]}SessionData",
        "date": f"{study.year}-{1 + study.age % 12:02d}-15",
        "age": str(study.age),
        "subject_ID": f"DEMO_S_{person.patient_id}",
        "insert_date": f"{study.year}-{1 + study.age % 12:02d}-16 09:00:00.0",
        "last_modified": "",
        "URI": f"/data/experiments/{experiment}",
    }


def _session(person: Person, study: Study) -> dict[str, Any]:
    manufacturer, model, tesla = study.scanner
    session: dict[str, Any] = {
        "label": f"{person.patient_id}_{study.year}",
        "modality": _modality(study),
        "date": f"{study.year}-{1 + study.age % 12:02d}-15",
        "dcmPatientId": person.patient_id,
        "dcmPatientName": person.name,
        "scanner/manufacturer": manufacturer,
        "scanner/model": model,
    }
    if tesla is not None:
        session["fieldStrength"] = str(tesla)
    return session


def _scan(study: Study, series: Series) -> dict[str, Any]:
    key, modality, description, tr, te, ti, flip, _agent = series.protocol
    manufacturer, model, tesla = study.scanner
    scan: dict[str, Any] = {
        "ID": str(series.number),
        "type": description,
        "xsiType": f"xnat:{_KINDS[modality]}ScanData",
        "quality": "usable",
        "series_description": description,
        "frames": str(series.slices),
        "scanner/manufacturer": manufacturer,
        "scanner/model": model,
        "parameters/voxelRes/x": "1.0",
        "parameters/voxelRes/y": "1.0",
        "parameters/voxelRes/z": "1.0" if key.startswith("T1") else "4.0",
    }
    if modality == "MR":
        scan |= {
            "fieldStrength": str(tesla),
            "parameters/tr": str(tr),
            "parameters/te": str(te),
            "parameters/flip": str(flip),
            "parameters/imageType": "ORIGINAL\\PRIMARY\\M\\ND",
        }
        if ti is not None:
            scan["parameters/ti"] = str(ti)
    return scan
