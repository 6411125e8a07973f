"""Series of a folder, aggregated as their files are read, and which series speaks for a parent."""

from __future__ import annotations

import posixpath
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from harvesters.dicom._folder_index import SeriesKey
from harvesters.dicom.header import CleanHeader
from harvesters.dicom.series import VARYING


class SeriesAggregate:
    """The instances of one series, in memory bounded by their distinct values, not their number.

    It keeps the header of the file first by path (so the result does not depend on the order in
    which workers finish), the count, and one header per new SOP class or acquisition value.
    `headers()` gives `series_records` exactly what it would derive from every header: the same
    first header, SOP classes, varying values, smallest values and instance count."""

    def __init__(self, relpath: str, header: CleanHeader) -> None:
        self.series = header.series
        self.first_path = relpath
        self.first = header
        self.folder = posixpath.dirname(relpath)  # the deepest folder holding every file
        self.count = 0
        self._distinct: list[CleanHeader] = []
        self._values: set[tuple[str, Any]] = set()
        self.add(relpath, header)

    @property
    def key(self) -> SeriesKey:
        return (self.first.series, self.first.study, self.first.subject)

    def add(self, relpath: str, header: CleanHeader) -> None:
        self.count += 1
        if relpath < self.first_path:
            self.first_path, self.first = relpath, header
        folder = posixpath.dirname(relpath)
        if self.folder and not (folder + "/").startswith(self.folder + "/"):
            self.folder = posixpath.commonpath([self.folder, folder])
        values = {(name, getattr(header, name)) for name in ("sop_class_uid", *VARYING)}
        if not values <= self._values:
            self._values |= values
            self._distinct.append(header)

    def headers(self) -> list[CleanHeader]:
        first = self.first
        if first.instance_count is None:
            first = replace(first, instance_count=self.count)
        return [first, *self._distinct]


def representatives(keys: Iterable[SeriesKey]) -> tuple[dict[str, str], dict[str, str]]:
    """For each study and subject, the series (smallest native id) whose headers give its record.

    A parent is yielded once, from one series, so two series that disagree on a study-level value
    cannot make it flap; an incremental run yields it again only when that series was re-read,
    and re-reads that series when it became the representative since the last run."""
    studies: dict[str, str] = {}
    subjects: dict[str, str] = {}
    for series, study, subject in keys:
        for parents, parent in ((studies, study), (subjects, subject)):
            known = parents.get(parent)
            if known is None or series < known:
                parents[parent] = series
    return studies, subjects
