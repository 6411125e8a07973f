"""DIMSE harvester: C-FIND (Study Root) at STUDY level per StudyDate window, then SERIES level per
study, over one association that is re-opened if the peer drops it between queries.

A C-FIND SCP answers only the keys it supports: Orthanc answers instance-level keys (echo time,
field strength, ...) at SERIES level by reading one stored instance; a PACS that does not leaves
them empty, and the records say less. C-FIND has no paging: a PACS that caps its answers needs a
smaller `window_days`.

There is no address to fetch a series over DIMSE (C-MOVE needs a registered destination), so the
access address comes only from the templates, e.g. the site's viewer or DICOMweb service.
"""

from __future__ import annotations

import datetime as dt
import functools
import socket
from collections.abc import Iterator

from pydantic import Field, field_validator
from pydicom.datadict import dictionary_VR
from pydicom.dataelem import DataElement, RawDataElement
from pydicom.dataset import Dataset
from pydicom.uid import UID
from pynetdicom import AE, _config
from pynetdicom.association import Association

from catalogue.errors import FatalHarvestError, RetriableHarvestError
from catalogue.records import Cursor, Item
from harvesters.base import HarvestContext, Harvester
from harvesters.dicom._query import (
    AccessTemplates,
    Edge,
    QueryConfig,
    StudyRef,
    is_uid,
    merged,
    parse_da,
    quiet_pydicom,
    tag_for,
    walk_studies,
)

_SUCCESS, _PENDING = 0x0000, (0xFF00, 0xFF01)
_LEAN = tuple(tag_for(k) for k in ("StudyInstanceUID", "StudyDate", "StudyTime"))
StudyRootFind = UID("1.2.840.10008.5.1.4.1.2.2.1")  # Study Root Query/Retrieve Model - FIND
Verification = UID("1.2.840.10008.1.1")


class DimseConfig(QueryConfig):
    host: str = Field(min_length=1, description="host name or address of the C-FIND SCP")
    port: int = Field(ge=1, le=65535, description="its DICOM port")
    called_aet: str = Field(description="its AE title")
    calling_aet: str = Field("CATALOGUE", description="our AE title, as registered at the PACS")
    timeout_s: float = Field(30.0, gt=0, description="connect, association and reply timeout")

    @field_validator("called_aet", "calling_aet")
    @classmethod
    def _check_aet(cls, value: str) -> str:
        if not 1 <= len(value.strip()) <= 16 or "\\" in value or not value.isprintable():
            raise ValueError("an AE title is 1 to 16 printable characters without a backslash")
        return value.strip()

    def templates(self) -> AccessTemplates:
        return AccessTemplates(self.study_access_url_template, self.access_url_template, {})


class Dimse:
    """One association with the SCP; every failure maps onto the harvest error tree."""

    def __init__(self, config: DimseConfig) -> None:
        self.config = config
        self.peer = (
            f"{config.called_aet}@{config.host}:{config.port} (calling AE {config.calling_aet})"
        )
        self.ae = AE(ae_title=config.calling_aet)
        self.ae.add_requested_context(StudyRootFind)
        self.ae.add_requested_context(Verification)
        t = config.timeout_s
        self.ae.connection_timeout = self.ae.acse_timeout = t
        self.ae.dimse_timeout = self.ae.network_timeout = t
        self.assoc: Association | None = None

    def __enter__(self) -> Dimse:
        return self

    def __exit__(self, *_exc: object) -> None:
        if self.assoc is not None and self.assoc.is_established:
            self.assoc.release()
        self.assoc = None

    def _association(self) -> Association:
        if self.assoc is not None and self.assoc.is_established:
            return self.assoc
        cfg = self.config
        self._probe()
        assoc = self.ae.associate(cfg.host, cfg.port, ae_title=cfg.called_aet)
        if assoc.is_established:
            _no_delay(assoc)
            self.assoc = assoc
            return assoc
        if assoc.is_rejected:
            raise FatalHarvestError(f"association rejected by {self.peer}{_rejection(assoc)}")
        raise FatalHarvestError(
            f"association with {self.peer} aborted or not answered within {cfg.timeout_s:g} s: "
            "the SCP accepts neither Study Root C-FIND nor Verification from us, or is not DICOM"
        )

    def _probe(self) -> None:
        """Connect over TCP first: it names the reason a connection fails, and pynetdicom leaks
        its socket when its own connect fails (pynetdicom 3.0: shutdown() on an unconnected
        socket raises, so close() is skipped)."""
        cfg = self.config
        try:
            socket.create_connection((cfg.host, cfg.port), timeout=cfg.timeout_s).close()
        except TimeoutError:
            reason = f"no answer within {cfg.timeout_s:g} s"
        except socket.gaierror:
            reason = "host name not found"
        except OSError as exc:
            reason = (exc.strerror or type(exc).__name__).lower()
        else:
            return
        raise FatalHarvestError(f"cannot connect to {self.peer}: {reason}")

    def echo(self) -> None:
        status = self._association().send_c_echo()
        if status.get("Status") != _SUCCESS:
            raise FatalHarvestError(f"C-ECHO to {self.peer} failed")

    def find(self, query: Dataset, what: str) -> Iterator[Dataset]:
        """The C-FIND matches; `what` names the query in errors (no header values)."""
        assoc = self._association()
        for status, identifier in assoc.send_c_find(query, StudyRootFind):
            code = status.get("Status")
            if code is None:  # no valid answer: aborted, or timed out (pynetdicom aborts then)
                self.assoc = None
                raise RetriableHarvestError(
                    f"{what}: the association with {self.peer} was aborted or timed out"
                )
            if code in _PENDING and identifier is not None:
                yield identifier
            elif code != _SUCCESS:
                raise _FindFailedError(f"{what}: C-FIND failed with status 0x{code:04X}")


def _no_delay(assoc: Association) -> None:
    """pynetdicom writes a C-FIND request in two parts (command, identifier); with Nagle's
    algorithm the second waits for the peer's delayed ACK, ~40 ms per query."""
    transport = assoc.dul.socket
    if transport is not None and transport.socket is not None:
        transport.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class _FindFailedError(Exception):
    pass


def _rejection(assoc: Association) -> str:
    primitive = assoc.acceptor.primitive
    if primitive is None:
        return ""
    try:
        return f" ({primitive.result_str}, {primitive.source_str}: {primitive.reason_str})"
    except (AttributeError, KeyError, TypeError, ValueError):
        return ""


def _query(level: str, tags: tuple[int, ...], **keys: str) -> Dataset:
    """A C-FIND identifier: the return keys empty (sequences as empty sequences), then the
    matching keys."""
    query = Dataset()
    with quiet_pydicom():  # a date range is not a valid DA value to pydicom
        query.QueryRetrieveLevel = level
        for tag in tags:
            vr = dictionary_VR(tag).split(" or ")[0]
            query.add_new(tag, vr, [] if vr == "SQ" else None)
        for keyword, value in keys.items():
            setattr(query, keyword, value)
    return query


def _without_empty(answer: Dataset) -> Dataset:
    """A C-FIND answer without its zero-length keys: in C-FIND, empty means "no value or not
    supported", not "recorded as empty" (which would read as, e.g., "no contrast agent")."""
    tags = list(answer.keys())  # iterating a Dataset would decode every element
    for tag in tags:
        if _is_empty(answer.get_item(tag)):
            del answer[tag]
    return answer


def _is_empty(element: DataElement | RawDataElement) -> bool:
    if isinstance(element, RawDataElement):
        return not element.value  # the raw bytes: nothing is decoded (or validated) here
    return element.is_empty


def quiet_pynetdicom() -> None:
    """pynetdicom logs the identifiers of C-FIND requests and answers (UIDs, patient data) at
    INFO; no raw header value may reach a log, so this process never does that."""
    _config.LOG_REQUEST_IDENTIFIERS = False
    _config.LOG_RESPONSE_IDENTIFIERS = False


class DimseHarvester(Harvester[DimseConfig]):
    name = "dimse"
    Config = DimseConfig

    def __init__(self, config: DimseConfig, context: HarvestContext) -> None:
        super().__init__(config, context)
        quiet_pynetdicom()

    def check_connection(self) -> None:
        with Dimse(self.config) as dimse:
            dimse.echo()

    def iter_records(self, since: Cursor | None) -> Iterator[Item]:
        edge = Edge(self.config, self.context, self.config.templates())
        with Dimse(self.config) as dimse:
            yield edge.collection_record(None)
            yield from walk_studies(
                functools.partial(self._studies, dimse, edge),
                lambda batch: (i for ref, cur in batch for i in self._study(dimse, edge, ref, cur)),
                since=since,
                window_days=self.config.window_days,
                window_studies=self.config.window_studies,
                today=dt.date.today(),
            )

    def _studies(
        self,
        dimse: Dimse,
        edge: Edge,
        dates: str | None,
        *,
        lean: bool = False,
        uid: str | None = None,
    ) -> Iterator[StudyRef]:
        what = f"study listing (StudyDate {dates or 'any'})"
        keys = {"StudyDate": dates or ""} | ({"StudyInstanceUID": uid} if uid else {})
        query = _query("STUDY", _LEAN if lean else edge.fields.study, **keys)
        try:
            for found in dimse.find(query, what):
                with quiet_pydicom():  # not around the yield: it would cover the consumer
                    ref_uid, date = str(found.get("StudyInstanceUID", "")), found.get("StudyDate")
                    time = str(found.get("StudyTime", ""))
                if not is_uid(ref_uid):
                    self.report.failure(what, "a study without a valid StudyInstanceUID")
                    continue
                yield StudyRef(ref_uid, parse_da(date), time, found)
        except _FindFailedError as exc:  # without the listing there is no window to walk
            raise RetriableHarvestError(str(exc)) from None

    def _study(self, dimse: Dimse, edge: Edge, ref: StudyRef, cursor: Cursor) -> Iterator[Item]:
        query = _query("SERIES", edge.fields.series, StudyInstanceUID=ref.uid)
        try:
            answers = list(dimse.find(query, "series listing"))
        except _FindFailedError as exc:
            edge.study_failed(ref.uid, str(exc))
            return
        for series in answers:
            with quiet_pydicom():
                series_uid = str(series.get("SeriesInstanceUID", ""))
            if not is_uid(series_uid):
                edge.study_failed(ref.uid, "a series without a valid SeriesInstanceUID")
                continue
            dataset = merged(_without_empty(series), _without_empty(ref.data))
            dataset.StudyInstanceUID = ref.uid  # an SCP may leave the matching key out
            yield from edge.records(
                [dataset], study_uid=ref.uid, series_uid=series_uid, cursor=cursor
            )
