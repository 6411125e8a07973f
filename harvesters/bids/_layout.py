"""The layout of a BIDS dataset, read from names alone: which files are data, which sidecars apply.

Nothing here opens a file. The walk lists the dataset (and each `derivatives/<pipeline>/`
dataset) and sorts what it finds into data files (NIfTI images named by the BIDS entity rules),
sidecars (JSON files at the dataset, subject, session and datatype levels) and the tabular files
(`participants.tsv`, `sub-<label>_sessions.tsv`). A NIfTI or JSON file inside a subject folder
that breaks the naming rules is handed to `on_error` and left out.

Naming rules (BIDS 1.9, "Entities" appendix): `sub-<label>[_ses-<label>][_<key>-<value>...]`
then `_<suffix>`, with the keys known, each at most once, in the specification's order; labels
alphanumeric; index entities (`run`, `echo`, ...) digits; `sub` and `ses` equal to the folders
holding the file.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import NamedTuple

#: Entity keys in the order the specification fixes for file names.
ENTITY_ORDER = (
    "sub", "ses", "sample", "task", "tracksys", "acq", "nuc", "voi", "ce", "trc", "stain", "rec",
    "dir", "run", "mod", "echo", "flip", "inv", "mt", "part", "proc", "hemi", "space", "split",
    "recording", "chunk", "seg", "res", "den", "label", "desc",
)  # fmt: skip
_RANK = {key: rank for rank, key in enumerate(ENTITY_ORDER)}
_INDEX_ENTITIES = frozenset({"run", "echo", "flip", "inv", "split", "chunk"})
DATATYPES = frozenset(
    {"anat", "func", "dwi", "fmap", "perf", "pet", "mrs", "eeg", "meg", "ieeg", "beh", "micr",
     "nirs", "motion"}
)  # fmt: skip
NIFTI = (".nii.gz", ".nii")
_LABEL = re.compile(r"[a-zA-Z0-9]+")
_INDEX = re.compile(r"[0-9]+")
_SUFFIX = re.compile(r"[a-zA-Z0-9]+")

OnError = Callable[[str, str], None]  # (relative path, reason without values)
Stat = tuple[int, int]  # (size, mtime_ns)


class NamingError(ValueError):
    """A file name that breaks the BIDS naming rules; the message names the rule."""


class Name(NamedTuple):
    entities: tuple[tuple[str, str], ...]  # in file-name order, `sub` first
    suffix: str
    extension: str
    keys: dict[str, str]  # the entities, by key


def parse_name(filename: str) -> Name:
    """The entities, suffix and extension of a BIDS file name (with `sub-`), or `NamingError`."""
    stem, extension = _split_extension(filename)
    *pairs, suffix = stem.split("_")
    if not pairs or not _SUFFIX.fullmatch(suffix):
        raise NamingError("the name does not end in a suffix after its entities")
    entities: list[tuple[str, str]] = []
    for pair in pairs:
        key, dash, value = pair.partition("-")
        if not dash or key not in _RANK:
            raise NamingError("an entity is not one the specification defines")
        if not (_INDEX if key in _INDEX_ENTITIES else _LABEL).fullmatch(value):
            raise NamingError(f"the {key} entity's value is not a valid label or index")
        if entities and _RANK[key] <= _RANK[entities[-1][0]]:
            raise NamingError("entities are repeated or out of the specification's order")
        entities.append((key, value))
    return Name(tuple(entities), suffix, extension, dict(entities))


def _split_extension(filename: str) -> tuple[str, str]:
    if filename.endswith(".nii.gz"):
        return filename[: -len(".nii.gz")], ".nii.gz"
    stem, dot, extension = filename.rpartition(".")
    return (stem, f".{extension}") if dot and stem else (filename, "")


def _sidecar_name(filename: str) -> Name | None:
    """Entities of a sidecar above the datatype level, which may omit `sub` (e.g.
    `task-rest_bold.json` at the dataset root); None for files that are not sidecars."""
    if not filename.endswith(".json"):
        return None
    try:
        return parse_name(filename)
    except NamingError:
        return None


class Sidecar(NamedTuple):
    relpath: str
    depth: int  # 0 dataset, 1 subject, 2 session, 3 datatype
    name: Name
    stat: Stat

    def applies_to(self, data: Name) -> bool:
        """The inheritance principle: same suffix, and every entity of the sidecar in the file."""
        if self.name.suffix != data.suffix:
            return False
        keys = data.keys
        return all(keys.get(k) == v for k, v in self.name.entities)


class DataFile(NamedTuple):
    relpath: str  # POSIX, relative to the harvested root; never leaves the harvester as is
    dataset: int  # 0: the dataset itself; n: its n-th derivative
    datatype: str
    subject: str  # label, without "sub-"
    session: str | None
    name: Name
    stat: Stat
    sidecars: tuple[Sidecar, ...]  # applicable ones, least specific first


@dataclass
class Dataset:
    relroot: str  # "" for the dataset itself, "derivatives/<pipeline>" for a derivative
    description: Stat | None = None
    participants: Stat | None = None
    participants_sidecar: Stat | None = None
    sessions_tables: dict[str, Stat] = field(default_factory=dict)  # by subject label
    subjects: set[str] = field(default_factory=set)
    studies: set[tuple[str, str | None]] = field(default_factory=set)  # (subject, session)
    files: list[DataFile] = field(default_factory=list)

    def path(self, name: str) -> str:
        return f"{self.relroot}/{name}" if self.relroot else name


class Entry(NamedTuple):
    name: str
    is_dir: bool  # otherwise a regular file (other kinds are left out)
    stat: Stat


def _entries(root: str, relpath: str, on_error: OnError) -> list[Entry]:
    """The visible files and folders of a folder, names sorted.

    Links to files are followed: DataLad and git-annex datasets keep their images as links into
    the annex. A link whose target is not here (content not fetched) counts as a file by its own
    stat: its sidecar still describes it. Links to folders are not followed (no loops)."""
    try:
        with os.scandir(os.path.join(root, relpath)) as listing:
            found = [_entry(e) for e in listing if not e.name.startswith(".")]
    except OSError as exc:
        on_error(relpath, f"folder cannot be listed ({type(exc).__name__})")
        return []
    return sorted(e for e in found if e is not None)


def _entry(entry: os.DirEntry[str]) -> Entry | None:
    link = entry.is_symlink()
    try:
        info = entry.stat(follow_symlinks=link)
    except OSError:  # a dangling link: an annexed file whose content is elsewhere
        info = entry.stat(follow_symlinks=False)
        return Entry(entry.name, False, (info.st_size, info.st_mtime_ns))
    if stat.S_ISDIR(info.st_mode):
        return None if link else Entry(entry.name, True, (0, 0))
    if stat.S_ISREG(info.st_mode):
        return Entry(entry.name, False, (info.st_size, info.st_mtime_ns))
    return None


class _Walk:
    """Lists one dataset (the root or a derivative) into a `Dataset`."""

    def __init__(self, root: str, dataset: Dataset, number: int, on_error: OnError) -> None:
        self.root, self.dataset, self.number, self.on_error = root, dataset, number, on_error

    def run(self, top: list[Entry]) -> None:
        sidecars = self._sidecars(self.dataset.relroot, top, 0)
        for name, is_dir, info in top:
            relpath = self.dataset.path(name)
            if not is_dir:
                self._top_file(name, info)
            elif name.startswith("sub-"):
                label = name[4:]
                if _LABEL.fullmatch(label):
                    self._subject(relpath, label, sidecars)
                else:
                    self.on_error(relpath, "subject folder label is not alphanumeric")

    def _top_file(self, name: str, info: Stat) -> None:
        if name == "dataset_description.json":
            self.dataset.description = info
        elif name == "participants.tsv":
            self.dataset.participants = info
        elif name == "participants.json":
            self.dataset.participants_sidecar = info

    def _sidecars(self, relpath: str, entries: list[Entry], depth: int) -> list[Sidecar]:
        found = []
        for name, is_dir, info in entries:
            parsed = None if is_dir else _sidecar_name(name)
            if parsed is not None:
                path = f"{relpath}/{name}" if relpath else name
                found.append(Sidecar(path, depth, parsed, info))
        return found

    def _subject(self, relpath: str, label: str, above: list[Sidecar]) -> None:
        self.dataset.subjects.add(label)
        entries = _entries(self.root, relpath, self.on_error)
        inherited = above + self._sidecars(relpath, entries, 1)
        sessions = False
        for name, is_dir, info in entries:
            if name == f"sub-{label}_sessions.tsv" and not is_dir:
                self.dataset.sessions_tables[label] = info
            elif is_dir and name.startswith("ses-"):
                sessions = True
                self._session(f"{relpath}/{name}", label, name[4:], inherited)
            elif is_dir:
                self._datatype(f"{relpath}/{name}", label, None, inherited)
            else:
                self._stray(f"{relpath}/{name}")
        if not sessions:
            self.dataset.studies.add((label, None))

    def _session(self, relpath: str, subject: str, label: str, above: list[Sidecar]) -> None:
        if not _LABEL.fullmatch(label):
            self.on_error(relpath, "session folder label is not alphanumeric")
            return
        self.dataset.studies.add((subject, label))
        entries = _entries(self.root, relpath, self.on_error)
        inherited = above + self._sidecars(relpath, entries, 2)
        for name, is_dir, _info in entries:
            if is_dir:
                self._datatype(f"{relpath}/{name}", subject, label, inherited)
            else:
                self._stray(f"{relpath}/{name}")

    def _stray(self, relpath: str) -> None:
        """An image beside the datatype folders, where the specification puts none."""
        if self.number == 0 and relpath.endswith(NIFTI):
            self.on_error(relpath, "image is not in a datatype folder")

    def _datatype(
        self, relpath: str, subject: str, session: str | None, above: list[Sidecar]
    ) -> None:
        datatype = relpath.rsplit("/", 1)[-1]
        if datatype not in DATATYPES:
            if self.number == 0:  # derivatives may keep other folders (figures, logs)
                self.on_error(relpath, "folder is not a BIDS datatype")
            return
        named: list[tuple[str, Name, Stat]] = []
        for filename, is_dir, info in _entries(self.root, relpath, self.on_error):
            if not is_dir and filename.endswith((*NIFTI, ".json")):
                path = f"{relpath}/{filename}"
                try:
                    name = parse_name(filename)
                    _check_folders(name, subject, session)
                except NamingError as exc:
                    self.on_error(path, f"file name breaks the BIDS naming rules: {exc}")
                    continue
                named.append((path, name, info))
        # Sidecars by suffix: a folder of many runs must not compare every image with every
        # sidecar.
        by_suffix: dict[str, list[Sidecar]] = {}
        for sidecar in above + [Sidecar(p, 3, n, s) for p, n, s in named if n.extension == ".json"]:
            by_suffix.setdefault(sidecar.name.suffix, []).append(sidecar)
        where = (datatype, subject, session)
        for path, name, info_stat in named:
            if name.extension != ".json":
                candidates = by_suffix.get(name.suffix, ())
                applicable = tuple(sorted((s for s in candidates if s.applies_to(name)), key=_rank))
                self.dataset.files.append(
                    DataFile(path, self.number, *where, name, info_stat, applicable)
                )
                self.dataset.studies.add((subject, session))  # also beside session folders


def _rank(sidecar: Sidecar) -> tuple[int, int]:
    """Inheritance order: the dataset's sidecars first, then the more specific."""
    return sidecar.depth, len(sidecar.name.entities)


def _check_folders(name: Name, subject: str, session: str | None) -> None:
    keys = name.keys
    if name.entities[0][0] != "sub" or keys["sub"] != subject:
        raise NamingError("the sub entity does not match the subject folder")
    if keys.get("ses") != session:
        raise NamingError("the ses entity does not match the session folder")


def walk(root: str, *, derivatives: bool, on_error: OnError) -> Iterator[Dataset]:
    """The dataset at `root`, then (when asked) each derivative dataset under `derivatives/`."""
    top = _entries(root, "", on_error)
    raw = Dataset("")
    _Walk(root, raw, 0, on_error).run(top)
    yield raw
    if not derivatives or not any(e.name == "derivatives" and e.is_dir for e in top):
        return
    folders = [e.name for e in _entries(root, "derivatives", on_error) if e.is_dir]
    for number, name in enumerate(folders, start=1):
        dataset = Dataset(f"derivatives/{name}")
        _Walk(root, dataset, number, on_error).run(_entries(root, dataset.relroot, on_error))
        yield dataset
