"""One harvest of a folder: read what the plan says, aggregate series, decide what to yield."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from catalogue.records import Item, Seen
from harvesters.base import Report
from harvesters.dicom._folder_index import FileStat, FolderIndex, IndexBuilder, Plan, SeriesKey
from harvesters.dicom._folder_read import HeaderReader
from harvesters.dicom._folder_series import SeriesAggregate, representatives
from harvesters.dicom.header import CleanHeader
from harvesters.dicom.series import series_records

AccessUrl = Callable[[str, str, str, str], str | None]  # (series, study, subject, folder)
Parents = tuple[dict[str, str], dict[str, str]]  # representative series of studies, subjects


class FolderRun:
    def __init__(
        self,
        old: FolderIndex,
        index: IndexBuilder,
        report: Report,
        collection: str,
        access_url: AccessUrl,
    ) -> None:
        self.old = old
        self.index = index
        self.report = report
        self.collection = collection
        self.access_url = access_url
        self.series: dict[str, SeriesAggregate] = {}  # read this run, by series native id
        self.kept: dict[SeriesKey, list[FileStat]] = {}  # unchanged and not read

    def read(self, reader: HeaderReader, files: Iterable[FileStat]) -> None:
        for f, outcome in reader.read(files):
            if isinstance(outcome, str):
                self.report.failure(f"file:{f.fid}", outcome)
            elif outcome is None:
                self.index.add(f, None)  # a DICOMDIR: valid, but no instance
            else:
                self._add(f, outcome)

    def _add(self, f: FileStat, header: CleanHeader) -> None:
        aggregate = self.series.get(header.series)
        if aggregate is None:
            aggregate = self.series[header.series] = SeriesAggregate(f.relpath, header)
        else:
            aggregate.add(f.relpath, header)
        self.index.add(f, aggregate.series)  # one string for every file of the series

    def second_pass(self, todo: Plan) -> list[FileStat]:
        """Files of series the plan left unread that must be read after all: a series that
        gained a file, and one that became the representative of its study or subject since the
        last run (its parents' records must come from it)."""
        positions = {self.old.series[p][0]: p for p in todo.clean}
        need = {positions[s] for s in self.series if s in positions}
        now = [a.key for a in self.series.values()] + [self.old.series[p] for p in todo.clean]
        for reps, old_reps in zip(
            representatives(now), representatives(self.old.series), strict=True
        ):
            for parent, series in reps.items():
                if series in positions and old_reps.get(parent) != series:
                    need.add(positions[series])
        return [f for p in sorted(need) for f in todo.clean.pop(p)]

    def items(self, todo: Plan) -> Iterator[Item]:
        """`Seen` for the unread series, then records of the read ones; parents once each."""
        kept = {self.old.series[p]: files for p, files in todo.clean.items()}
        parents = representatives([*(a.key for a in self.series.values()), *kept])
        for key in sorted(kept):
            yield from _seen(key, parents)
            for f in kept[key]:
                self.index.add(f, key[0])
        for f in todo.no_series:
            self.index.add(f, None)
        for series in sorted(self.series):
            yield from self._records(self.series[series], parents)
        self.kept = kept

    def _records(self, aggregate: SeriesAggregate, parents: Parents) -> Iterator[Item]:
        series, study, subject = aggregate.key
        records = series_records(
            aggregate.headers(),
            collection=self.collection,
            access_url=self.access_url(series, study, subject, aggregate.folder),
        )
        subject_record, study_record, series_record = records
        if parents[1][subject] == series:
            yield subject_record
        if parents[0][study] == series:
            yield study_record
        yield series_record

    def cursor(self) -> dict[str, object]:
        keys = {key[0]: key for key in self.kept}
        keys.update((series, a.key) for series, a in self.series.items())
        return self.index.cursor(keys)


def _seen(key: SeriesKey, parents: Parents) -> Iterator[Seen]:
    series, study, subject = key
    if parents[1][subject] == series:
        yield Seen(kind="subject", native_id=subject)
    if parents[0][study] == series:
        yield Seen(kind="study", native_id=study)
    yield Seen(kind="series", native_id=series)
