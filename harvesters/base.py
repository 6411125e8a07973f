"""The harvester contract. A harvester has a `name` (its kind), a pydantic `Config`,
`check_connection()`, and one generator `iter_records(since)`.

It yields de-identified records (`catalogue.records`), `Seen` markers for records it knows are
unchanged, and `Checkpoint`s. Cursors only move forward. It reports a bad record with
`self.report.failure(native_id, reason)` and goes on; only a fatal problem (unreachable source,
bad credentials) raises `FatalHarvestError`. It never touches the store, the index or its
bookmark: the runner owns all of that.
"""

from __future__ import annotations

import abc
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import ClassVar, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, SecretStr

from catalogue.records import Cursor, Item

MAX_REASON = 300


class HarvesterConfig(BaseModel):
    """Base of every harvester's Config: unknown fields are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass(frozen=True)
class RecordFailure:
    native_id: str
    reason: str


@dataclass
class Report:
    """Per-run report of bad records. Reasons name what was wrong, never header values."""

    failures: list[RecordFailure] = field(default_factory=list)

    def failure(self, native_id: str, reason: str) -> None:
        self.failures.append(RecordFailure(native_id[:512], reason[:MAX_REASON]))


@dataclass(frozen=True)
class HarvestContext:
    """What the runner gives a harvester: where it runs and the keys it de-identifies with."""

    source: str
    site: str
    pseudonym_secret: SecretStr | None = None
    report: Report = field(default_factory=Report)


ConfigT = TypeVar("ConfigT", bound=HarvesterConfig)


class Harvester(abc.ABC, Generic[ConfigT]):
    name: ClassVar[str]
    Config: ClassVar[type[HarvesterConfig]]
    #: Every run walks the whole source (yielding `Seen` for what it skips), so each run can
    #: drive deletions; otherwise only runs from scratch (`since` None) do.
    complete_walks: ClassVar[bool] = False

    def __init__(self, config: ConfigT, context: HarvestContext) -> None:
        self.config = config
        self.context = context

    @property
    def report(self) -> Report:
        return self.context.report

    @abc.abstractmethod
    def check_connection(self) -> None:
        """Raise `FatalHarvestError` with a clear reason unless the source can be harvested."""

    @abc.abstractmethod
    def iter_records(self, since: Cursor | None) -> Iterator[Item]:
        """Yield everything changed after `since` (everything when None), cursors ascending."""
