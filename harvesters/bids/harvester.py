"""`bids`: a BIDS dataset folder (raw data and its derivatives).

```yaml
sources:
  - name: ds-epilepsy
    kind: bids
    path: /data/bids/epilepsy
    group_columns: [group]
    diagnosis_columns: [diagnosis]
```

`dataset_description.json` gives the collection; `participants.tsv` (and its JSON sidecar) the
subjects; session folders the imaging studies (one study per subject without sessions); each
NIfTI image the series, from its JSON sidecars merged by the inheritance principle. Derivative
datasets under `derivatives/` add their images to the same subjects and sessions, marked in the
series' attributes with their pipeline.

Every run walks the whole dataset (names and sizes only). A record is read again only when a
file it comes from changed: the cursor keeps, per record, a keyed signature of the (path, size,
mtime) of its files; a record whose signature is unchanged is yielded as `Seen`.

Privacy: participant labels are identifiers. Subjects, studies and series are named by keyed
pseudonyms (HMAC-SHA256 with the site's secret, as the DICOM de-identification mints them);
failure reports name files by a keyed hash of their path (`file:<id>`; `locate()` maps ids back
on the site's machine) and table rows by number. Dates are never read; ages of 90 and over
become 90. Only allow-listed sidecar keys are read, and their text is screened.
"""

from __future__ import annotations

import hashlib
import json
import os
import urllib.parse
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import ClassVar, Literal

from pydantic import Field, field_validator

from catalogue.errors import FatalHarvestError
from catalogue.models import Visibility
from catalogue.records import Checkpoint, Cursor, Item
from harvesters.base import Harvester, HarvesterConfig
from harvesters.bids._layout import walk
from harvesters.bids._run import PROFILE, BidsRun, Naming, old_signatures
from harvesters.pseudonyms import Pseudonymiser, from_context


class BidsConfig(HarvesterConfig):
    path: Path = Field(
        description="Absolute path of the dataset's root folder (the one holding "
        "dataset_description.json). Checked when harvesting, not when the sources file loads."
    )
    collection: str | None = Field(
        default=None,
        min_length=1,
        description="Title of the collection; the dataset's Name (dataset_description.json), "
        "else the folder name, when not given.",
    )
    collection_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=512,
        description="Native id of the collection; the source name when not given.",
    )
    visibility: Visibility = Field(
        default=Visibility.PUBLIC, description="Who may see the collection's records."
    )
    derivatives: bool = Field(
        default=True,
        description="Harvest the derivative datasets under derivatives/ too (marked as such).",
    )
    age_column: str = Field(default="age", description="participants.tsv column of the age.")
    sex_column: str = Field(default="sex", description="participants.tsv column of the sex.")
    group_columns: tuple[str, ...] = Field(
        default=("group",),
        description="participants.tsv columns of the study group or arm; the first with a "
        "value wins. Level meanings in participants.json replace codes.",
    )
    diagnosis_columns: tuple[str, ...] = Field(
        default=(),
        description="participants.tsv columns holding diagnoses (mapped to ICD-10 later).",
    )
    species_column: str = Field(default="species", description="participants.tsv species.")
    strain_column: str = Field(default="strain", description="participants.tsv strain.")
    subject_key: Literal["dataset", "label"] = Field(
        default="dataset",
        description="What a subject's pseudonym is keyed on: `dataset` (collection and label: "
        "sub-01 of two datasets are two people), or `label` alone (when labels are the site's "
        "patient IDs, so the subject lines up with the site's DICOM sources).",
    )
    access_url_base: str | None = Field(
        default=None,
        description="Address of the dataset's root at the site (e.g. an https:// share); the "
        "file:// URI of `path` when not given.",
    )
    series_addresses: bool = Field(
        default=False,
        description="Give each series the address of its file (base + relative path). Paths hold "
        "the participant and session labels: turn on only when those are study codes, not "
        "identifiers. Off: every record carries the dataset's address.",
    )
    nifti_headers: bool = Field(
        default=True,
        description="Read a NIfTI header (nibabel, header only) when the sidecars lack the slice "
        "thickness or, for a 4D image, the repetition time; adds dimensions and voxel size.",
    )

    @field_validator("path")
    @classmethod
    def _absolute(cls, path: Path) -> Path:
        if not path.is_absolute():
            raise ValueError("path must be absolute")
        return path

    @field_validator("access_url_base")
    @classmethod
    def _address(cls, base: str | None) -> str | None:
        if base is not None and urllib.parse.urlsplit(base).scheme not in ("https", "http", "file"):
            raise ValueError("access_url_base must be an https://, http:// or file:// address")
        return base.rstrip("/") if base is not None else None


class BidsHarvester(Harvester[BidsConfig]):
    name = "bids"
    Config = BidsConfig
    complete_walks: ClassVar[bool] = True  # every run accounts for every record of the dataset

    def check_connection(self) -> None:
        self._keys()  # a missing or short secret is fatal
        root = self.config.path
        try:
            with os.scandir(root) as listing:
                next(listing, None)
        except OSError as exc:
            raise FatalHarvestError(
                f"the folder {root} cannot be read: {exc.strerror or type(exc).__name__}"
            ) from None

    def iter_records(self, since: Cursor | None) -> Iterator[Item]:
        self.check_connection()  # a missing root must stop the run, not look like an empty one
        keys = self._keys()
        fingerprint = self._fingerprint()
        naming = Naming(keys, self.collection_id, self.config.subject_key)

        def bad_file(relpath: str, reason: str) -> None:
            self.report.failure(f"file:{naming.file(relpath)}", reason)

        root = str(self.config.path)
        datasets = list(walk(root, derivatives=self.config.derivatives, on_error=bad_file))
        run = BidsRun(
            self.config,
            self.report,
            naming,
            old_signatures(since, fingerprint),
            base=self.config.access_url_base or self.config.path.as_uri(),
        )
        yield from run.collection(datasets, self.collection_id)
        yield from run.subjects(datasets)
        yield from run.studies(datasets)
        yield from run.series(datasets)
        yield Checkpoint(cursor=run.cursor(fingerprint))

    @property
    def collection_id(self) -> str:
        return self.config.collection_id or self.context.source

    def locate(self, ids: Iterable[str]) -> dict[str, str]:
        """Relative paths of the files and folders that failure reports name (`file:<id>`), for
        the site's operators: it needs the secret and the dataset."""
        wanted = {i.removeprefix("file:") for i in ids}
        naming = Naming(self._keys(), self.collection_id, self.config.subject_key)
        found: dict[str, str] = {}

        def note(relpath: str, _reason: str) -> None:
            if (fid := naming.file(relpath)) in wanted:
                found[fid] = relpath

        for dataset in walk(str(self.config.path), derivatives=True, on_error=note):
            note(dataset.path("dataset_description.json"), "")
            for f in dataset.files:
                for relpath in (f.relpath, *(s.relpath for s in f.sidecars)):
                    note(relpath, "")
        return found

    def _keys(self) -> Pseudonymiser:
        return from_context(self.context, "BIDS datasets")

    def _fingerprint(self) -> str:
        """What, besides the files, the records depend on: a change means reading everything."""
        settings = [PROFILE, self.collection_id, self.config.model_dump(mode="json")]
        return hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:16]
