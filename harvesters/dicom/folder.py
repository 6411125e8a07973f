"""`dicom-folder`: a folder tree of DICOM files (a PACS export, a study's data drop).

```yaml
sources:
  - name: neuro-export
    kind: dicom-folder
    path: /exports/neuro
    collection: Neuro MR export 2024
    access_url_template: "https://viewer.site.example/series/{series}"
```

Every run walks the whole tree (so series that disappeared are known: they are not yielded, and
the runner retires them). Files are read only when new or changed: the cursor is an index of
every file's (keyed path hash, size, mtime_ns, series), yielded as the final `Checkpoint`. A
series whose files are all unchanged is yielded as `Seen`; one with a new, changed or removed
file is read again whole. Headers are read with pydicom (stopping before the pixel data) and
de-identified in the worker process that read them; only `CleanHeader`s come back.

Privacy: folder and file names in exports are often patient names or IDs, so no path leaves the
harvester by default: the index and failure reports name a file by a keyed hash of its relative
path (`file:<id>`, see `_folder_index.file_id`; `locate()` maps ids back on the site's machine).
`{relpath}` in `access_url_template` puts the series folder into the records: use it only for
exports whose folder names are known to be free of identifiers.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import string
import urllib.parse
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import ClassVar, Literal

from pydantic import Field, field_validator

from catalogue.errors import ConfigurationError, FatalHarvestError
from catalogue.models import Visibility
from catalogue.records import Checkpoint, CollectionRecord, Cursor, Item
from harvesters.base import Harvester, HarvesterConfig
from harvesters.dicom._folder_index import (
    FileStat,
    FolderIndex,
    IndexBuilder,
    OnError,
    Plan,
    file_id,
    id_key,
    plan,
    walk,
)
from harvesters.dicom._folder_read import HeaderReader, MakeDeid
from harvesters.dicom._folder_run import FolderRun
from harvesters.dicom.deid import DateMode, Deidentifier

URL_FIELDS = frozenset({"series", "study", "subject", "collection", "relpath"})


def _default_workers() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


class DicomFolderConfig(HarvesterConfig):
    path: Path = Field(
        description="Absolute path of the root of the tree of DICOM files. Whether it is there "
        "is checked when harvesting, not when the sources file is loaded (a share that is not "
        "mounted yet must not invalidate the whole file)."
    )
    collection: str = Field(min_length=1, description="Title of the collection the tree forms.")
    collection_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=512,
        description="Native id of the collection; the source name when not given.",
    )
    visibility: Visibility = Field(
        default=Visibility.PUBLIC, description="Who may see the collection's records."
    )
    workers: int = Field(
        default_factory=_default_workers,
        ge=1,
        description="Processes reading headers; 1 reads in the harvester's own process.",
    )
    follow_symlinks: bool = Field(
        default=False, description="Follow symbolic links to files and folders (loops are cut)."
    )
    exclude: tuple[str, ...] = Field(
        default=(".*",),
        description="Glob patterns of file and folder names not to read (default: hidden ones, "
        "e.g. .DS_Store, which would otherwise be reported as broken files).",
    )
    access_url_template: str | None = Field(
        default=None,
        description="Address of a series at the site, with {series}, {study}, {subject} "
        "(pseudonymous ids), {collection} or {relpath} (the series' folder relative to `path`, "
        "URL-quoted: only for exports whose folder names carry no identifiers). None: no address.",
    )
    date_mode: DateMode = Field(
        default="year",
        description="How the de-identifier reduces dates: `year`, or `shift` (by a keyed "
        "per-subject offset, keeping intervals).",
    )
    missing_patient_id: Literal["error", "study"] = Field(
        default="error",
        description="A file without PatientID: `error` reports it; `study` makes each study "
        "its own subject.",
    )

    @field_validator("path")
    @classmethod
    def _absolute(cls, path: Path) -> Path:
        if not path.is_absolute():
            raise ValueError("path must be absolute")
        return path

    @field_validator("access_url_template")
    @classmethod
    def _known_fields(cls, template: str | None) -> str | None:
        if template is not None:
            names = {name for _, name, _, _ in string.Formatter().parse(template) if name}
            if unknown := names - URL_FIELDS:
                raise ValueError(
                    f"unknown fields {sorted(unknown)}; use any of {sorted(URL_FIELDS)}"
                )
        return template


class DicomFolderHarvester(Harvester[DicomFolderConfig]):
    name = "dicom-folder"
    Config = DicomFolderConfig
    complete_walks: ClassVar[bool] = True  # every run accounts for every series of the tree

    def check_connection(self) -> None:
        self._make_deid()  # a missing or short secret is fatal
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
        make_deid = self._make_deid()
        fingerprint = self._fingerprint(make_deid().profile.version)
        old = FolderIndex.from_cursor(since, fingerprint)
        yield CollectionRecord(
            native_id=self.collection_id,
            title=self.config.collection,
            visibility=self.config.visibility,
        )
        run = FolderRun(
            old, IndexBuilder(fingerprint), self.report, self.collection_id, self._access_url
        )
        root = str(self.config.path)
        with HeaderReader(root, make_deid, workers=self.config.workers) as reader:
            if old.files:  # compare the whole tree with the index first
                todo = plan(self._walk(), old)
                run.read(reader, todo.to_read)
                todo.to_read = []  # let the paths go before the second pass
                run.read(reader, run.second_pass(todo))
            else:  # nothing to compare with: read as the walk goes
                todo = Plan()
                run.read(reader, self._walk())
        yield from run.items(todo)
        yield Checkpoint(cursor=run.cursor())

    @property
    def collection_id(self) -> str:
        return self.config.collection_id or self.context.source

    def locate(self, ids: Iterable[str]) -> dict[str, str]:
        """Relative paths of the files and folders that failure reports name (`file:<id>`,
        `folder:<id>`), for the site's operators: it needs the secret and the tree."""
        wanted = {i.split(":", 1)[-1] for i in ids}
        key = id_key(self._secret())
        found: dict[str, str] = {}

        def note(_kind: str, relpath: str, _reason: str) -> None:
            if (fid := file_id(key, relpath)) in wanted:
                found[fid] = relpath

        for f in self._walk(on_error=note, key=key):
            if f.fid in wanted:
                found[f.fid] = f.relpath
        return found

    def _walk(
        self, on_error: OnError | None = None, key: bytes | None = None
    ) -> Iterator[FileStat]:
        def report(kind: str, relpath: str, reason: str) -> None:
            self.report.failure(f"{kind}:{file_id(folder_key, relpath)}", reason)

        folder_key = key or id_key(self._secret())
        return walk(
            str(self.config.path),
            key=folder_key,
            follow_symlinks=self.config.follow_symlinks,
            exclude=self.config.exclude,
            on_error=on_error or report,
        )

    def _secret(self) -> bytes:
        secret = self.context.pseudonym_secret
        if secret is None or not secret.get_secret_value():
            raise FatalHarvestError(
                f"source {self.context.source!r}: no pseudonym secret is configured for site "
                f"{self.context.site!r}; DICOM headers are never harvested without one"
            )
        return secret.get_secret_value().encode("utf-8")

    def _make_deid(self) -> MakeDeid:
        """A picklable maker of the de-identifier (worker processes build their own), tried
        once here so a bad secret stops the run with a clear reason."""
        make = functools.partial(
            Deidentifier,
            self._secret(),
            date_mode=self.config.date_mode,
            missing_patient_id=self.config.missing_patient_id,
        )
        try:
            make()
        except ConfigurationError as exc:
            raise FatalHarvestError(f"source {self.context.source!r}: {exc.message}") from None
        return make

    def _fingerprint(self, profile: str) -> str:
        """What, besides the files, the records depend on: a change means reading everything."""
        settings = [
            self.collection_id,
            self.config.access_url_template,
            self.config.date_mode,
            self.config.missing_patient_id,
            profile,
        ]
        return hashlib.sha256(json.dumps(settings).encode()).hexdigest()[:16]

    def _access_url(self, series: str, study: str, subject: str, folder: str) -> str | None:
        template = self.config.access_url_template
        if template is None:
            return None
        return template.format(
            series=series,
            study=study,
            subject=subject,
            collection=urllib.parse.quote(self.collection_id, safe=""),
            relpath=urllib.parse.quote(folder),
        )
