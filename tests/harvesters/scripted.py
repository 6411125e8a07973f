"""A scripted source for testing the runner: it yields the items of a JSON file, can report a
bad record, fail fatally, crash or sleep at a given item. Its cursors are zero-padded indexes."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

from pydantic import TypeAdapter

from catalogue.errors import FatalHarvestError
from catalogue.records import Checkpoint, Cursor, Item, Record
from harvesters.base import Harvester, HarvesterConfig

RECORD = TypeAdapter(Record)


class ScriptedConfig(HarvesterConfig):
    items_file: Path
    bad_at: int | None = None  # report this item as a bad record instead of yielding it
    fatal_at: int | None = None  # raise FatalHarvestError before this item
    crash_at: int | None = None  # raise a plain exception before this item
    sleep_s: float = 0.0  # pause before each item (to be killed mid-run)


class ScriptedHarvester(Harvester[ScriptedConfig]):
    name = "scripted"
    Config = ScriptedConfig
    complete_walks: ClassVar[bool] = False

    def check_connection(self) -> None:
        if not self.config.items_file.is_file():
            raise FatalHarvestError(f"no items file at {self.config.items_file}")

    def iter_records(self, since: Cursor | None) -> Iterator[Item]:
        self.check_connection()
        raw: list[dict[str, Any]] = json.loads(self.config.items_file.read_text())
        for index, data in enumerate(raw):
            cursor = f"{index:06d}"
            if since is not None and cursor <= since:
                continue
            time.sleep(self.config.sleep_s)
            if index == self.config.fatal_at:
                raise FatalHarvestError("the source went away")
            if index == self.config.crash_at:
                raise RuntimeError("PATIENT^SECRET leaked into an exception")
            if index == self.config.bad_at:
                self.report.failure(data["native_id"], "unreadable header")
                continue
            yield RECORD.validate_python({**data, "cursor": cursor})
        yield Checkpoint(cursor=f"{len(raw) - 1:06d}")  # the last item walked


def items(
    subjects: int = 3,
    series_per_subject: int = 2,
    title: str = "Study A",
    description: str = "t1_mprage",
) -> list[dict[str, Any]]:
    """A collection, then per subject: the subject, one study and its series."""
    out: list[dict[str, Any]] = [{"kind": "collection", "native_id": "c1", "title": title}]
    for s in range(subjects):
        out.append(
            {
                "kind": "subject",
                "native_id": f"sub{s}",
                "collection": "c1",
                "sex": "female",
                "species": "Homo sapiens",
                "diagnoses": ["G35"],
            }
        )
        out.append(
            {
                "kind": "study",
                "native_id": f"st{s}",
                "collection": "c1",
                "subject": f"sub{s}",
                "year": 2020,
            }
        )
        for k in range(series_per_subject):
            out.append(
                {
                    "kind": "series",
                    "native_id": f"se{s}.{k}",
                    "collection": "c1",
                    "subject": f"sub{s}",
                    "study": f"st{s}",
                    "modality": "MR",
                    "series_description": description,
                    "image_type": ["ORIGINAL"],
                }
            )
    return out
