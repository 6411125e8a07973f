"""Reading and de-identifying instance headers from files, in this process or in worker processes.

Workers get chunks of relative paths and send back `CleanHeader`s (small frozen dataclasses), never
Datasets: de-identification happens in the worker, so raw header values never cross a pipe. A file
that cannot be used comes back as a reason naming the problem (never a header value).
"""

from __future__ import annotations

import io
import itertools
import multiprocessing
import os
import sys
import threading
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from types import TracebackType

import pydicom
import pydicom.config
from pydicom.errors import InvalidDicomError
from pydicom.filereader import read_partial

from catalogue.errors import RetriableHarvestError
from harvesters.dicom._folder_index import FileStat
from harvesters.dicom.deid import DeidentificationError, Deidentifier
from harvesters.dicom.header import CleanHeader

MEDIA_STORAGE_DIRECTORY = "1.2.840.10008.1.3.10"  # the SOP class of a DICOMDIR
PIXEL_DATA = frozenset({0x7FE00008, 0x7FE00009, 0x7FE00010})  # float, double float, integer

#: What reading one file gives: its clean header, a failure reason, or None for a file that is
#: valid DICOM but no instance (a DICOMDIR: its records only point at files the walk finds anyway).
Outcome = CleanHeader | str | None

PREFIX = 64 * 1024  # bytes read first; nearly every header ends before
UNDEFINED_LENGTH = 0xFFFFFFFF
CHUNK = 64  # files per task: hides the pickling and pipe round trip (~1 ms against ~50 ms of
# reading), small enough that every worker stays busy until the end

MakeDeid = Callable[[], Deidentifier]
_worker_deid: Deidentifier | None = None  # one per worker process, set by `_start_worker`


class _TruncatedError(Exception):
    """The file ends inside its header."""


def read_header(path: str, deid: Deidentifier) -> Outcome:
    """The clean header of one file, a reason why it cannot be used, or None for a DICOMDIR."""
    try:
        with _quiet():
            ds = _read_dataset(path, list(deid.tags_read))
            if ds.file_meta.get("MediaStorageSOPClassUID") == MEDIA_STORAGE_DIRECTORY:
                return None
            return deid.clean(ds)
    except DeidentificationError as exc:  # its messages name the problem, never a value
        return f"cannot be de-identified: {exc}"
    except InvalidDicomError:
        return "not a DICOM file (no 'DICM' prefix after the 128-byte preamble)"
    except _TruncatedError:
        return "truncated DICOM file (it ends inside the header)"
    except _UnreadableError as exc:
        return f"file cannot be read ({exc})"
    except Exception as exc:  # any parser error: the type only, messages may quote values
        return f"malformed DICOM header ({type(exc).__name__})"


class _UnreadableError(Exception):
    pass


def _read_dataset(path: str, tags: list[int]) -> pydicom.Dataset:
    """The attributes `tags` of the header of `path` (the others are skipped, not parsed: most
    of the cost of reading a header), parsed from memory, which is much faster than from a file
    (no system call per element). One read of PREFIX bytes holds most headers; for a longer
    one, twice as much is read and parsed again."""
    try:
        with open(path, "rb", buffering=0) as f:
            size = os.fstat(f.fileno()).st_size
            data = f.read(PREFIX)
            while (ds := _parse(data, tags, whole=len(data) >= size)) is None:
                more = f.read(max(len(data), PREFIX))
                size = size if more else len(data)  # it shrank meanwhile: we have it all
                data += more
            return ds
    except OSError as exc:
        raise _UnreadableError(type(exc).__name__) from None


def _parse(data: bytes, tags: list[int], *, whole: bool) -> pydicom.Dataset | None:
    """The header in `data`, or None when `data` (not the whole file) ends before it does."""
    buffer = io.BytesIO(data)  # nameless: pydicom puts file names into warnings and logs
    elements = _Elements(buffer)
    try:
        ds = read_partial(buffer, elements, specific_tags=tags)
    except InvalidDicomError:
        raise
    except Exception:
        if whole:
            raise
        return None
    if buffer.tell() < len(data):  # stopped before the pixel data: the header is all there
        return ds
    if not whole:
        return None
    if not elements.seen or elements.end not in (None, len(data)):
        # A header read to the end of the file must end with a whole element: pydicom takes a
        # value cut short as it comes (or skips past the end over one it was not asked for),
        # so a truncated file would give a plausible header with fields lost. (A cut exactly
        # between two elements cannot be told from the end of an object without pixel data.)
        raise _TruncatedError
    return ds


class _Elements:
    """The stop condition of a header read (the pixel data), which notes where the last
    top-level element it was asked about ends (None: undefined length)."""

    __slots__ = ("buffer", "end", "seen")

    def __init__(self, buffer: io.BytesIO) -> None:
        self.buffer = buffer
        self.seen = False
        self.end: int | None = None

    def __call__(self, tag: int, _vr: str | None, length: int) -> bool:
        if tag in PIXEL_DATA:
            return True
        self.seen = True  # called with the value next to read
        self.end = None if length == UNDEFINED_LENGTH else self.buffer.tell() + length
        return False


@contextmanager
def _quiet() -> Iterator[None]:
    """pydicom's value validation warns and logs the offending value: off while reading."""
    with pydicom.config.disable_value_validation(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def _start_worker(make_deid: MakeDeid) -> None:
    global _worker_deid
    _worker_deid = make_deid()


def _read_chunk(root: str, relpaths: Sequence[str]) -> list[Outcome]:
    assert _worker_deid is not None, "worker started without a de-identifier"
    return [read_header(os.path.join(root, rel), _worker_deid) for rel in relpaths]


def _start_method() -> str:
    """fork is instant (workers inherit the imported modules) and safe while no other Python
    thread runs (numpy's idle BLAS threads are fork-aware); a threaded host (an API server,
    telemetry exporters) gets forkserver, which pays the imports (~3 s here) once per process
    instead of risking a lock copied mid-use into the child. (As with any spawned worker, the
    host's main script then needs an `if __name__ == "__main__":` guard.)"""
    methods = multiprocessing.get_all_start_methods()
    if threading.active_count() == 1 and "fork" in methods and sys.platform != "darwin":
        return "fork"
    return "forkserver" if "forkserver" in methods else "spawn"


class HeaderReader:
    """Reads files in this process (`workers == 1`, or too few files to share) or in a pool of
    processes started on first use and stopped on exit."""

    def __init__(self, root: str, make_deid: MakeDeid, *, workers: int) -> None:
        self.root = root
        self.make_deid = make_deid  # picklable (a functools.partial): workers build their own
        self.workers = workers
        self._deid: Deidentifier | None = None
        self._pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> HeaderReader:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def read(self, files: Iterable[FileStat]) -> Iterator[tuple[FileStat, Outcome]]:
        """Every file with its outcome, in no particular order. Files are taken from `files` a
        chunk at a time as reading goes, so a walk can feed it directly."""
        chunks = _chunks(files)
        first = next(chunks, [])
        chunks = itertools.chain([first], chunks)
        if self.workers == 1 or len(first) < CHUNK:  # one chunk: nothing to share
            yield from self._read_here(chunks)
        else:
            yield from self._read_in_pool(chunks)

    def _read_here(self, chunks: Iterator[list[FileStat]]) -> Iterator[tuple[FileStat, Outcome]]:
        if self._deid is None:
            self._deid = self.make_deid()
        for chunk in chunks:
            for f in chunk:
                yield f, read_header(os.path.join(self.root, f.relpath), self._deid)

    def _read_in_pool(self, chunks: Iterator[list[FileStat]]) -> Iterator[tuple[FileStat, Outcome]]:
        pool = self._ensure_pool()
        running: dict[Future[list[Outcome]], list[FileStat]] = {}

        def submit(chunk: list[FileStat]) -> None:
            paths = [f.relpath for f in chunk]
            running[pool.submit(_read_chunk, self.root, paths)] = chunk

        # A bounded window of chunks in flight keeps memory flat however many files there are.
        for chunk in itertools.islice(chunks, self.workers * 3):
            submit(chunk)
        while running:
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                yield from zip(running.pop(future), _result(future), strict=True)
                if (more := next(chunks, None)) is not None:
                    submit(more)

    def _ensure_pool(self) -> ProcessPoolExecutor:
        if self._pool is None:
            method = _start_method()
            context = multiprocessing.get_context(method)
            if method == "forkserver":
                context.set_forkserver_preload([__name__])
            self._pool = ProcessPoolExecutor(
                max_workers=self.workers,
                mp_context=context,
                initializer=_start_worker,
                initargs=(self.make_deid,),
            )
        return self._pool


def _chunks(files: Iterable[FileStat]) -> Iterator[list[FileStat]]:
    it = iter(files)
    while chunk := list(itertools.islice(it, CHUNK)):
        yield chunk


def _result(future: Future[list[Outcome]]) -> list[Outcome]:
    try:
        return future.result()
    except BrokenProcessPool:  # killed (out of memory?) or crashed: try the run again later
        raise RetriableHarvestError("a process reading DICOM headers died") from None
