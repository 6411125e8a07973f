"""The folder walk and the file index that makes re-harvests incremental.

The index is the harvester's cursor, stored by the runner in the catalogue database, so it holds
no path: folder and file names in exports are often patient names. A file is known by a keyed
hash of its relative path (BLAKE2b, 96 bits, keyed from the site's pseudonym secret, so nobody
without the secret can test a guessed name against it):

    {"v": 1, "fp": <config fingerprint>,
     "series": [[series, study, subject], ...],            # pseudonymous native ids
     "files": {<file id>: [size, mtime_ns, series position or -1], ...}}

-1 marks a file that belongs to no series (a DICOMDIR). Files that could not be read are left
out, so they are read (and reported) again on every run.
"""

from __future__ import annotations

import binascii
import fnmatch
import hashlib
import logging
import os
import re
import stat
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

log = logging.getLogger(__name__)

INDEX_VERSION = 1
NO_SERIES = -1
SeriesKey = tuple[str, str, str]  # (series, study, subject) native ids


class FileStat(NamedTuple):
    relpath: str  # POSIX, relative to the root; stays in memory, never leaves the harvester
    fid: str
    size: int
    mtime_ns: int


def id_key(secret: bytes) -> bytes:
    """The key for file ids, derived (with its own domain) so the pseudonym secret itself is
    never used for two purposes."""
    return hashlib.blake2b(secret, digest_size=32, person=b"dicom-folder-ids").digest()


class FileIds:
    """Stable opaque ids for relative paths: 16 URL-safe characters (96 bits of keyed BLAKE2b).
    Hashing every path of the tree on every run is on the path of a re-harvest, hence the
    prepared hasher."""

    _URL_SAFE = bytes.maketrans(b"+/", b"-_")

    def __init__(self, key: bytes) -> None:
        self._keyed = hashlib.blake2b(key=key, digest_size=12)

    def __call__(self, relpath: str) -> str:
        h = self._keyed.copy()
        h.update(relpath.encode("utf-8", "surrogateescape"))  # as os.fsencode on POSIX
        return binascii.b2a_base64(h.digest(), newline=False).translate(self._URL_SAFE).decode()


def file_id(key: bytes, relpath: str) -> str:
    return FileIds(key)(relpath)


@dataclass
class FolderIndex:
    """The index of the last good run, used as the runner stored it (it is not copied: at a
    million files it is tens of megabytes)."""

    series: list[SeriesKey] = field(default_factory=list)
    files: Mapping[str, Sequence[int]] = field(default_factory=dict)

    @classmethod
    def from_cursor(cls, since: Any, fingerprint: str) -> FolderIndex:
        """Empty (everything is read) when there is no index, when it cannot be understood, or
        when it was made with other settings."""
        if since is None:
            return cls()
        if not _well_formed(since):
            log.warning("the folder index of the last run is not understood; reading every file")
            return cls()
        if since["fp"] != fingerprint:
            log.info("the harvest settings changed since the last run; reading every file")
            return cls()
        return cls(series=[(a, b, c) for a, b, c in since["series"]], files=since["files"])


def _well_formed(since: Any) -> bool:
    if not isinstance(since, dict) or set(since) != {"v", "fp", "series", "files"}:
        return False
    series, files = since["series"], since["files"]
    if since["v"] != INDEX_VERSION or not isinstance(series, list) or not isinstance(files, dict):
        return False
    if not all(
        isinstance(key, list | tuple) and len(key) == 3 and all(isinstance(k, str) for k in key)
        for key in series
    ):
        return False
    return all(
        isinstance(e, list | tuple)
        and len(e) == 3
        and all(type(v) is int for v in e)
        and NO_SERIES <= e[2] < len(series)
        for e in files.values()
    )


class IndexBuilder:
    """Collects the index of this run, files as they are read or kept. The cursor is the same
    however the reads were scheduled (series positions follow the sorted series ids; the files
    are not sorted, which would copy the biggest structure of the run for nothing)."""

    def __init__(self, fingerprint: str) -> None:
        self.fingerprint = fingerprint
        self._files: dict[str, list[Any]] = {}  # fid → [size, mtime_ns, series id or None]

    def add(self, f: FileStat, series: str | None) -> None:
        self._files[f.fid] = [f.size, f.mtime_ns, series]

    def cursor(self, keys: Mapping[str, SeriesKey]) -> dict[str, Any]:
        """The index (once: the entries are turned into their final form in place)."""
        series = sorted({e[2] for e in self._files.values() if e[2] is not None})
        position: dict[str | None, int] = {s: p for p, s in enumerate(series)}
        position[None] = NO_SERIES
        for entry in self._files.values():
            entry[2] = position[entry[2]]
        files, self._files = self._files, {}
        return {
            "v": INDEX_VERSION,
            "fp": self.fingerprint,
            "series": [list(keys[s]) for s in series],
            "files": files,
        }


@dataclass
class Plan:
    """Which files to read. A series of the last index whose files are all unchanged (same
    relative path, size and mtime_ns) is `clean` and is not opened; a series that lost or changed
    a file is `dirty` and its unchanged files are read again with the new and changed files."""

    to_read: list[FileStat] = field(default_factory=list)
    clean: dict[int, list[FileStat]] = field(default_factory=dict)  # by position in the old index
    no_series: list[FileStat] = field(default_factory=list)  # unchanged DICOMDIRs


def plan(files: Iterable[FileStat], old: FolderIndex) -> Plan:
    result = Plan()
    unchanged: dict[int, list[FileStat]] = defaultdict(list)
    for f in files:
        entry = old.files.get(f.fid)
        if entry is None or entry[0] != f.size or entry[1] != f.mtime_ns:
            result.to_read.append(f)
        elif entry[2] == NO_SERIES:
            result.no_series.append(f)
        else:
            unchanged[entry[2]].append(f)
    expected = Counter(entry[2] for entry in old.files.values())
    for position, kept in unchanged.items():
        if len(kept) == expected[position] and 0 <= position < len(old.series):
            result.clean[position] = kept
        else:
            result.to_read.extend(kept)
    return result


OnError = Callable[[str, str, str], None]  # (kind: "file" or "folder", relative path, reason)


def walk(
    root: str, *, key: bytes, follow_symlinks: bool, exclude: tuple[str, ...], on_error: OnError
) -> Iterator[FileStat]:
    """Every regular file under `root`, depth first, names sorted. Symbolic links are skipped
    unless followed; a followed link to a folder already walked (a loop) is skipped."""
    excluded = re.compile("|".join(fnmatch.translate(p) for p in exclude) or "(?!)").match
    ids = FileIds(key)
    visited: set[tuple[int, int]] = set()
    pending = [""]
    while pending:
        folder = pending.pop()
        entries = _list(root, folder, follow_symlinks, visited, on_error)
        prefix = f"{folder}/" if folder else ""
        subfolders: list[str] = []
        for entry in entries:
            if excluded(entry.name) or (not follow_symlinks and entry.is_symlink()):
                continue
            relpath = prefix + entry.name
            try:
                info = entry.stat(follow_symlinks=follow_symlinks)
            except OSError as exc:  # e.g. a followed link whose target is gone
                on_error("file", relpath, f"file cannot be examined ({type(exc).__name__})")
                continue
            if stat.S_ISREG(info.st_mode):
                yield FileStat(relpath, ids(relpath), info.st_size, info.st_mtime_ns)
            elif stat.S_ISDIR(info.st_mode):
                subfolders.append(relpath)
        pending.extend(reversed(subfolders))


def _list(
    root: str, folder: str, follow: bool, visited: set[tuple[int, int]], on_error: OnError
) -> list[os.DirEntry[str]]:
    """The entries of a folder, sorted by name; none for a folder walked before (a loop)."""
    path = os.path.join(root, folder)
    try:
        if follow:
            info = os.stat(path)
            if (info.st_dev, info.st_ino) in visited:
                return []
            visited.add((info.st_dev, info.st_ino))
        with os.scandir(path) as listing:
            return sorted(listing, key=lambda e: e.name)
    except OSError as exc:
        on_error("folder", folder, f"folder cannot be listed ({type(exc).__name__})")
        return []
