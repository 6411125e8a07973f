"""The runner: everything about a harvest that is not talking to the source.

It passes `since` from the bookmark, batches records into the ingest service (each batch one
transaction), collects what was seen, and closes the run: the bookmark advances only when the run
had no failures, and deletions happen only after complete runs. Delivery is at-least-once: after
a crash at any point, running again converges on the state an uninterrupted run would leave.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, get_args

from opentelemetry import trace
from pydantic import SecretStr
from pydantic import ValidationError as PydanticValidationError

from catalogue.errors import ConfigurationError, FatalHarvestError, HarvestError
from catalogue.models import HarvestRun, RunStatus
from catalogue.records import Checkpoint, Cursor, Deleted, Record, RecordKind, Seen
from catalogue.services.ingest import DeletionPolicy, IngestService, RunHandle
from catalogue.sources import SourceSpec
from harvesters.base import HarvestContext, Harvester, Report
from harvesters.registry import installed

log = logging.getLogger(__name__)
tracer = trace.get_tracer(__name__)
BATCH = 500
Progress = Callable[[int], None]


@dataclass
class _Walk:
    seen: dict[RecordKind, set[str]]
    cursor: Cursor
    pending: list[Record | Deleted]
    items: int = 0


class Runner:
    def __init__(
        self,
        ingest: IngestService,
        site: str,
        *,
        pseudonym_secret: SecretStr | None,
        policy: DeletionPolicy | None = None,
        kinds: Mapping[str, type[Harvester[Any]]] | None = None,
    ) -> None:
        self.ingest = ingest
        self.site = site
        self.secret = pseudonym_secret
        self.policy = policy or DeletionPolicy()
        self.kinds = kinds if kinds is not None else installed()

    def harvester(self, spec: SourceSpec, report: Report) -> Harvester[Any]:
        kind = self.kinds.get(spec.kind)
        if kind is None:
            raise ConfigurationError(f"no harvester installed for kind {spec.kind!r}")
        try:
            config = kind.Config.model_validate(spec.options)
        except PydanticValidationError as exc:
            raise ConfigurationError(
                f"source {spec.name!r}: invalid options ({exc.error_count()} "
                "errors; run `catalogue sources check`)"
            ) from None
        context = HarvestContext(
            source=spec.name,
            site=spec.site or self.site,
            pseudonym_secret=self.secret,
            report=report,
        )
        return kind(config, context)

    def run(
        self,
        spec: SourceSpec,
        *,
        full: bool = False,
        progress: Progress | None = None,
    ) -> HarvestRun:
        """Harvest one source. A fatal source error closes the run as failed and is raised."""
        report = Report()
        harvester = self.harvester(spec, report)
        if spec.site is not None:  # another site's records (a hub's peer): its site, registered
            self.ingest.store.ensure_site(spec.site, spec.site)
        handle = self.ingest.start_run(spec.name, spec.kind, spec.site or self.site)
        since = None if full else handle.since
        walk = _Walk(
            seen={kind: set() for kind in get_args(RecordKind)},
            cursor=since,
            pending=[],
        )
        try:
            with tracer.start_as_current_span("harvest.walk", attributes={"source": spec.name}):
                self._walk(harvester, handle, since, walk, report, progress)
        except HarvestError as exc:
            # Records received before the source failed are kept (the bookmark stays, so the
            # next run asks for them again: at least once).
            self._flush(handle, walk, report)
            self._close(handle, walk, report, RunStatus.FAILED, complete=False, note=exc.message)
            raise
        except Exception as exc:
            # A harvester bug must not leave the run open; its message may hold header values.
            log.exception("harvester %s crashed", spec.name)
            self._close(
                handle,
                walk,
                report,
                RunStatus.FAILED,
                complete=False,
                note=f"harvester crashed: {type(exc).__name__}",
            )
            raise FatalHarvestError(
                f"harvester {spec.name!r} crashed: {type(exc).__name__}"
            ) from exc
        complete = since is None or harvester.complete_walks
        return self._close(handle, walk, report, RunStatus.SUCCEEDED, complete=complete)

    def _walk(
        self,
        harvester: Harvester[Any],
        handle: RunHandle,
        since: Cursor,
        walk: _Walk,
        report: Report,
        progress: Progress | None,
    ) -> None:
        for item in harvester.iter_records(since):
            walk.items += 1
            if isinstance(item, Checkpoint):
                walk.cursor = item.cursor
                continue
            if not isinstance(item, Deleted):  # a deletion is written, not counted as seen
                walk.seen[item.kind].add(item.native_id)
            if isinstance(item, Seen):
                continue
            if item.cursor is not None:
                walk.cursor = item.cursor
            walk.pending.append(item)
            if len(walk.pending) >= BATCH:
                self._flush(handle, walk, report)
            if progress is not None:
                progress(walk.items)
        self._flush(handle, walk, report)

    def _flush(self, handle: RunHandle, walk: _Walk, report: Report) -> None:
        with tracer.start_as_current_span(
            "harvest.write", attributes={"records": len(walk.pending)}
        ):
            for native_id, reason in self.ingest.write(handle, walk.pending):
                report.failure(native_id, reason)
        walk.pending.clear()

    def _close(
        self,
        handle: RunHandle,
        walk: _Walk,
        report: Report,
        status: RunStatus,
        *,
        complete: bool,
        note: str | None = None,
    ) -> HarvestRun:
        failures = [(f.native_id, f.reason) for f in report.failures]
        if note:
            failures.append(("", note))
        with tracer.start_as_current_span("harvest.finish", attributes={"status": status.value}):
            return self.ingest.finish(
                handle,
                status=status,
                complete=complete,
                seen=walk.seen,
                cursor=walk.cursor,
                failures=failures,
                policy=self.policy,
            )
