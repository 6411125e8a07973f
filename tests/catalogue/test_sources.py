"""The sources file: valid files load; every mistake is located by file, line and field."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel, ConfigDict, DirectoryPath

from catalogue.errors import ConfigurationError
from catalogue.sources import load_sources, parse_sources


class FolderConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    path: DirectoryPath
    workers: int = 1


class WebConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: str


KINDS: dict[str, type[BaseModel]] = {"dicom-folder": FolderConfig, "dicomweb": WebConfig}


def _problems(text: str) -> list[str]:
    with pytest.raises(ConfigurationError) as caught:
        parse_sources(text, KINDS, origin="sources.yaml")
    return [f"{d.location} {d.message}" for d in caught.value.details]


def test_a_valid_file_loads_with_checked_options(tmp_path: Path) -> None:
    path = tmp_path / "sources.yaml"
    path.write_text(f"""
sources:
  - name: pacs-export
    kind: dicom-folder
    path: {tmp_path}
    workers: "2"
  - name: orthanc
    kind: dicomweb
    enabled: false
    url: http://127.0.0.1:18042/dicom-web
""")
    specs = load_sources(path, KINDS)
    assert [(s.name, s.kind, s.enabled) for s in specs] == [
        ("pacs-export", "dicom-folder", True),
        ("orthanc", "dicomweb", False),
    ]
    assert specs[0].options == {"path": str(tmp_path), "workers": 2}


@pytest.mark.parametrize("text", ["", "sources:\n", "sources: []\n"])
def test_empty_files_have_no_sources(text: str) -> None:
    assert parse_sources(text, KINDS) == []


def test_errors_name_file_line_and_field() -> None:
    problems = _problems("""\
sources:
  - name: ok-one
    kind: dicomweb
    url: http://x
  - name: Bad Name
    kind: dicomweb
    url: http://x
  - name: third
    kind: xnat
  - name: fourth
    kind: dicom-folder
    path: /no/such/folder
    colour: blue
  - name: fifth
    kind: dicomweb
  - name: ok-one
    kind: dicomweb
    url: http://y
""")
    assert problems[0].startswith("sources.yaml:5: sources[1].name String should match pattern")
    assert problems[1].startswith("sources.yaml:9: sources[2].kind unknown harvester kind 'xnat'")
    assert "available: dicom-folder, dicomweb" in problems[1]
    assert problems[2].startswith("sources.yaml:12: sources[3].path Path does not point to a")
    assert problems[3] == "sources.yaml:13: sources[3].colour Extra inputs are not permitted"
    assert problems[4] == "sources.yaml:14: sources[4].url Field required"
    assert problems[5].startswith("sources.yaml:16: sources[5].name duplicate source name")
    assert len(problems) == 6


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("sources:\n  - name: a\n    kind: [unclosed\n", "sources.yaml:4 not valid YAML"),
        (
            "sources:\n  - name: a\n    name: b\n    kind: dicomweb\n",
            "sources.yaml:3: sources[0].name duplicate key",
        ),
        ("- name: a\n", "sources.yaml:1: (top level) the file must be a mapping"),
        ("sources:\n  name: a\n", "sources.yaml:2: sources must be a list of sources"),
        (
            "sources:\n  - just-a-string\n",
            "sources.yaml:2: sources[0] each source must be a mapping",
        ),
        ("sources: !!python/object/apply:os.system ['true']\n", "not valid YAML"),
    ],
)
def test_malformed_files(text: str, expected: str) -> None:
    assert any(expected in p for p in _problems(text))


def test_a_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match=r"cannot read sources file .*nope.yaml"):
        load_sources(tmp_path / "nope.yaml", KINDS)


def test_secrets_reach_the_harvester_as_written(tmp_path: Path) -> None:
    from harvesters.dicom.dicomweb import DicomWebConfig

    path = tmp_path / "sources.yaml"
    path.write_text(
        "sources:\n  - name: pacs\n    kind: dicomweb\n    collection: PACS\n"
        "    url: http://pacs.example.org/dicom-web\n    username: u\n    password: hunter2\n"
    )
    (spec,) = load_sources(path, {"dicomweb": DicomWebConfig})
    assert spec.options["password"] == "hunter2"
