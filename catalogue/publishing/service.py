"""The dataset service: curated, citable datasets, their versions and DOIs.

Only consortium admins create, edit and publish; anyone may read a dataset once a version of
it is published. Every DOI change is queued in the transaction that makes it and carried to
the provider afterwards (`doi_sync`); failures stay on the dataset until retried.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic import ValidationError as PydanticValidationError
from sqlmodel import Session, col, select

from catalogue.access import Access, Identity, access_to
from catalogue.errors import (
    AuthenticationError,
    ConflictError,
    ErrorDetail,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)
from catalogue.exports.oaipmh.sets import assign_sets
from catalogue.models import Dataset, DatasetVersion, DoiState, Site, Visibility, utcnow
from catalogue.models.publishing import (
    CohortSnapshot,
    DatasetCuration,
    DoiAction,
    DoiTask,
)
from catalogue.publishing import attributes as attrs
from catalogue.publishing import datasheet as sheet
from catalogue.publishing import manifest as mf
from catalogue.publishing.doi_sync import DoiSync, queue
from catalogue.publishing.members import (
    Selection,
    SeriesRow,
    resolve_selection,
    series_rows,
    subjects_of_query,
)
from catalogue.publishing.metadata import MetadataPatch, apply_patch, parse_patch
from catalogue.publishing.providers import DoiProvider
from catalogue.publishing.queries import (
    curation_of,
    lookup,
    open_tasks,
    snapshot_of,
    versions_of,
)
from catalogue.publishing.views import (
    DatasetView,
    dataset_view,
    task_view,
    version_view,
)
from catalogue.search.query import validate_query
from catalogue.search.service import SearchService
from catalogue.search.suppression import Policy
from catalogue.store import Store

_PUBLIC_STATES = {DoiState.FINDABLE, DoiState.REGISTERED, DoiState.HIDDEN}


class DatasetSpec(BaseModel):
    """A new dataset: explicit members (subject or series IRIs) or a cohort query, not both."""

    model_config = ConfigDict(extra="forbid")

    slug: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,127}$")
    title: str = Field(min_length=1, max_length=1024)
    description: str = Field("", max_length=20_000)
    members: list[str] = Field(default_factory=list, max_length=100_000)
    query: dict[str, Any] | None = None
    metadata: dict[str, Any] | None = None


class DatasetService:
    def __init__(
        self,
        store: Store,
        search: SearchService,
        provider: DoiProvider,
        *,
        publisher: str,
        policy: Policy | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.store = store
        self.search = search
        self.provider = provider
        self.publisher = publisher
        self.policy = policy or search.policy
        self.clock = clock
        self.sync = DoiSync(store, provider, clock)

    # -- creating and editing ----------------------------------------------------------------
    def create(self, identity: Identity, spec: DatasetSpec | Mapping[str, Any]) -> DatasetView:
        _require_admin(identity)
        spec = _parse_spec(spec)
        patch = parse_patch(spec.metadata or {})
        subjects = None
        if spec.query is not None:
            query = validate_query({**spec.query, "kind": "subjects"})
            spec.query = query.model_dump(mode="json", include={"kind", "text", "filter"})
            subjects = subjects_of_query(self.search, identity, spec.query)
        with self.store.session() as session:
            if session.exec(select(Dataset).where(Dataset.slug == spec.slug)).first():
                raise ConflictError(f"a dataset {spec.slug!r} exists already")
            if subjects is not None:
                chosen = Selection(subjects=frozenset(subjects))
            else:
                chosen = resolve_selection(session, spec.members)
            dataset = self._new_dataset(session, spec, patch)
            version = DatasetVersion(dataset_id=dataset.id, version="1")
            self._freeze(session, version, chosen, spec.query, spec.members)
        return self.show(identity, dataset.id)

    def _new_dataset(self, session: Session, spec: DatasetSpec, patch: MetadataPatch) -> Dataset:
        if not spec.members and spec.query is None:
            raise ValidationError(
                "a dataset needs members or a query", [ErrorDetail("empty", "members")]
            )
        if spec.members and spec.query is not None:
            raise ValidationError(
                "give members or a query, not both", [ErrorDetail("both given", "query")]
            )
        id_ = uuid.uuid4()
        dataset = Dataset(
            id=id_,
            iri=f"{self.store.base_iri}/id/dataset/{id_}",
            slug=spec.slug,
            title=spec.title,
            description=spec.description,
            query=spec.query,
        )
        dataset.meta = attrs.base(dataset, self.publisher, self.clock().year)
        curation = DatasetCuration(dataset_id=id_)
        _edit(session, dataset, curation, patch)
        session.add(dataset)
        session.flush()
        session.add(curation)
        return dataset

    def _freeze(
        self,
        session: Session,
        version: DatasetVersion,
        chosen: Selection,
        query: dict[str, Any] | None,
        selection: list[str],
    ) -> None:
        """Resolve the members now and keep what they were: the cohort snapshot."""
        rows = series_rows(session, chosen)
        if not rows:
            raise ValidationError(
                "the dataset would be empty", [ErrorDetail("no member the catalogue may publish")]
            )
        version.members = [r.iri for r in rows if r.visibility is not Visibility.AGGREGATE]
        version.harvest_runs = sorted({r.last_seen_run for r in rows if r.last_seen_run})
        counted: dict[str, dict[str, Any]] = {}
        for r in rows:
            if r.visibility is Visibility.AGGREGATE:
                site = counted.setdefault(r.site, {"site": r.site, "subjects": set(), "series": 0})
                site["subjects"].add(r.subject_id)
                site["series"] += 1
        session.add(version)
        session.flush()
        snapshot = CohortSnapshot(
            version_id=version.id,
            query=query,
            selection=selection,
            frozen_at=self.clock(),
            counted=[{**c, "subjects": len(c["subjects"])} for _, c in sorted(counted.items())],
            datasheet=sheet.raw_datasheet(rows),
        )
        session.add(snapshot)

    def edit(
        self, identity: Identity, dataset_id: uuid.UUID, patch: MetadataPatch | Mapping[str, Any]
    ) -> DatasetView:
        """Change the metadata; DOIs already sent get the change (the concept's and the latest
        version's; earlier versions keep what they were published with)."""
        _require_admin(identity)
        checked = parse_patch(patch)
        with self.store.session() as session:
            dataset, curation = self._writable(session, dataset_id)
            _edit(session, dataset, curation, checked)
            session.add_all([dataset, curation])
            tasks = []
            if dataset.concept_doi and dataset.state is not DoiState.DRAFT:
                tasks.append(queue(session, dataset, None, DoiAction.UPDATE))
            latest = versions_of(session, dataset.id)[-1]
            if latest.doi and latest.state is not DoiState.DRAFT:
                if latest.published_at:
                    latest.meta = {**latest.meta, **attrs.descriptive(dataset.meta)}
                    session.add(latest)
                tasks.append(queue(session, dataset, latest, DoiAction.UPDATE))
            ids = [t.id for t in tasks]
        self.sync.run(ids)
        return self.show(identity, dataset_id)

    def new_version(
        self, identity: Identity, dataset_id: uuid.UUID, add: list[str] | None = None
    ) -> DatasetView:
        """A new draft version, frozen now: the dataset's query run again, or its selection
        resolved again, plus any IRIs in `add`."""
        _require_admin(identity)
        with self.store.session() as session:
            dataset, _ = self._writable(session, dataset_id)
            versions = versions_of(session, dataset.id)
            if versions[-1].published_at is None:
                raise ConflictError(f"version {versions[-1].version} is not published yet")
            previous = snapshot_of(session, versions[-1])
            query = dataset.query
            selection = sorted(set(previous.selection if previous else []) | set(add or []))
        subjects = subjects_of_query(self.search, identity, query) if query else []
        with self.store.session() as session:
            dataset, _ = self._writable(session, dataset_id)
            chosen = Selection(subjects=frozenset(subjects))
            if selection:
                chosen |= resolve_selection(session, selection)
            number = str(int(versions_of(session, dataset.id)[-1].version) + 1)
            version = DatasetVersion(dataset_id=dataset.id, version=number)
            self._freeze(session, version, chosen, query, selection)
        return self.show(identity, dataset_id)

    # -- DOIs ----------------------------------------------------------------------------------
    def reserve(self, identity: Identity, dataset_id: uuid.UUID) -> DatasetView:
        """Reserve the concept DOI and the draft version's DOI: shown, not public."""
        _require_admin(identity)
        with self.store.session() as session:
            dataset, _ = self._writable(session, dataset_id)
            ids = [t.id for t in self._reservations(session, dataset, _draft(session, dataset))]
        self.sync.run(ids)
        return self.show(identity, dataset_id)

    def _reservations(
        self, session: Session, dataset: Dataset, version: DatasetVersion
    ) -> list[DoiTask]:
        tasks = []
        if dataset.concept_doi is None:
            dataset.concept_doi = f"{self.provider.prefix}/{attrs.mint_suffix()}"
            session.add(dataset)
        if dataset.state is DoiState.DRAFT:
            tasks.append(queue(session, dataset, None, DoiAction.RESERVE))
        if version.doi is None:
            version.doi = attrs.version_doi(dataset.concept_doi, version.version)
            session.add(version)
        if version.state is DoiState.DRAFT:
            tasks.append(queue(session, dataset, version, DoiAction.RESERVE))
        return tasks

    def publish(
        self, identity: Identity, dataset_id: uuid.UUID, *, findable: bool = True
    ) -> DatasetView:
        """Publish the draft version: its DOI findable (or only registered), the concept DOI
        listing it, the previous version pointing to it. With no draft, make the latest
        version findable again if it was only registered or hidden."""
        _require_admin(identity)
        action = DoiAction.PUBLISH if findable else DoiAction.REGISTER
        with self.store.session() as session:
            dataset, _ = self._writable(session, dataset_id)
            latest = versions_of(session, dataset.id)[-1]
            if latest.published_at is not None:
                tasks = _republish(session, dataset, latest, findable)
            else:
                tasks = self._first_publication(session, dataset, latest, action)
            ids = [t.id for t in tasks]
        self.sync.run(ids)
        return self.show(identity, dataset_id)

    def _first_publication(
        self, session: Session, dataset: Dataset, version: DatasetVersion, action: DoiAction
    ) -> list[DoiTask]:
        tasks = self._reservations(session, dataset, version)
        version.published_at = self.clock()
        version.meta = attrs.descriptive(dataset.meta)
        session.add(version)
        session.flush()
        assign_sets(session, dataset.id, version.members)  # OAI-PMH sets: its sites, collections
        tasks.append(queue(session, dataset, version, action))
        tasks.append(queue(session, dataset, None, _concept_action(dataset.state, action)))
        published = [v for v in versions_of(session, dataset.id) if v.published_at]
        if len(published) > 1 and published[-2].doi:
            tasks.append(queue(session, dataset, published[-2], DoiAction.UPDATE))
        return tasks

    def hide(
        self, identity: Identity, dataset_id: uuid.UUID, version: str | None = None
    ) -> DatasetView:
        """Take findable DOIs out of the registrar's search; they still resolve."""
        _require_admin(identity)
        with self.store.session() as session:
            dataset = self._get(session, dataset_id)
            targets = _findable(session, dataset, version)
            if not targets:
                raise ConflictError("nothing findable to hide")
            ids = [queue(session, dataset, v, DoiAction.HIDE).id for v in targets]
        self.sync.run(ids)
        return self.show(identity, dataset_id)

    def delete(self, identity: Identity, dataset_id: uuid.UUID, reason: str) -> DatasetView:
        """Withdraw the dataset, leaving a tombstone: reserved DOIs are deleted, findable ones
        hidden; every DOI that ever resolved keeps resolving, to the tombstone."""
        _require_admin(identity)
        with self.store.session() as session:
            dataset, curation = self._writable(session, dataset_id)
            curation.tombstoned_at, curation.tombstone_reason = self.clock(), reason[:1024]
            session.add(curation)
            owners: list[DatasetVersion | None] = [None, *versions_of(session, dataset.id)]
            tasks = []
            for owner in owners:
                state = dataset.state if owner is None else owner.state
                if state is DoiState.RESERVED:
                    tasks.append(queue(session, dataset, owner, DoiAction.DELETE))
                elif state is DoiState.FINDABLE:
                    tasks.append(queue(session, dataset, owner, DoiAction.HIDE))
            ids = [t.id for t in tasks]
        self.sync.run(ids)
        return self.show(identity, dataset_id)

    def retry(self, identity: Identity, dataset_id: uuid.UUID) -> DatasetView:
        """Call the provider again for every DOI change that failed or never finished."""
        _require_admin(identity)
        self.sync.run(self.sync.open_tasks(dataset_id))
        return self.show(identity, dataset_id)

    # -- reading -----------------------------------------------------------------------------
    def listing(self, identity: Identity) -> list[DatasetView]:
        """Our datasets the caller may read (admins: drafts too), most recently changed first."""
        with self.store.session() as session:
            ours = session.exec(select(Dataset).where(col(Dataset.source_id).is_(None))).all()
            ids = [d.id for d in ours if self._visible(session, identity, d)]
        views = [self.show(identity, i) for i in ids]
        return sorted(views, key=lambda v: v.updated_at, reverse=True)

    def find(self, identity: Identity, key: str) -> uuid.UUID:
        """A dataset's id from its id, slug or DOI (concept or version)."""
        with self.store.session() as session:
            found = lookup(session, key)
            if found is None or not self._visible(session, identity, found):
                raise NotFoundError(f"no dataset {key!r}")
            return found.id

    def show(self, identity: Identity, dataset_id: uuid.UUID) -> DatasetView:
        with self.store.session() as session:
            dataset = self._readable(session, identity, dataset_id)
            curation = curation_of(session, dataset.id)
            versions = versions_of(session, dataset.id)
            admin = _is_admin(identity)
            shown = [v for v in versions if admin or v.published_at]
            views = [
                version_view(v, s, sheet.shown_counted(s.counted if s else [], self.policy, admin))
                for v in shown
                for s in [snapshot_of(session, v)]
            ]
            names = {v.id: v.version for v in versions}
            failures = (
                [task_view(t, names) for t in open_tasks(session, dataset.id)] if admin else []
            )
        registered = self.provider.name != "local"
        return dataset_view(dataset, curation, views, failures, (self.provider.name, registered))

    def datasheet(
        self, identity: Identity, dataset_id: uuid.UUID, version: str | None = None
    ) -> sheet.Datasheet:
        with self.store.session() as session:
            dataset = self._readable(session, identity, dataset_id)
            chosen = self._version(session, identity, dataset, version)
            snapshot = snapshot_of(session, chosen)
        raw = snapshot.datasheet if snapshot else {}
        return sheet.render(raw, self.policy, exact=_is_admin(identity))

    def manifest(
        self,
        identity: Identity,
        dataset_id: uuid.UUID,
        fmt: mf.ManifestFormat = "csv",
        version: str | None = None,
    ) -> str:
        """The version's series the caller may see records of, one row each."""
        with self.store.session() as session:
            dataset = self._readable(session, identity, dataset_id)
            chosen = self._version(session, identity, dataset, version)
            members = Selection(series=frozenset(chosen.members))
            allowed = _record_access(identity)
            rows = [r for r in series_rows(session, members, live_only=False) if allowed(r)]
            header = {"dataset": dataset.iri, "doi": chosen.doi, "version": chosen.version}
        return mf.render(mf.manifest_rows(rows), header, fmt)

    # -- internals ---------------------------------------------------------------------------
    def _get(self, session: Session, dataset_id: uuid.UUID) -> Dataset:
        dataset = session.get(Dataset, dataset_id)
        # datasets harvested from partner catalogues are theirs to publish, not ours
        if dataset is None or getattr(dataset, "source_id", None) is not None:
            raise NotFoundError(f"no dataset {dataset_id}")
        return dataset

    def _writable(self, session: Session, dataset_id: uuid.UUID) -> tuple[Dataset, DatasetCuration]:
        dataset = self._get(session, dataset_id)
        curation = curation_of(session, dataset.id) or DatasetCuration(dataset_id=dataset.id)
        if curation.tombstoned_at is not None:
            raise ConflictError(f"dataset {dataset.slug!r} was withdrawn")
        return dataset, curation

    def _visible(self, session: Session, identity: Identity, dataset: Dataset) -> bool:
        if _is_admin(identity):
            return True
        return any(v.published_at for v in versions_of(session, dataset.id))

    def _readable(self, session: Session, identity: Identity, dataset_id: uuid.UUID) -> Dataset:
        dataset = self._get(session, dataset_id)
        if not self._visible(session, identity, dataset):
            raise NotFoundError(f"no dataset {dataset_id}")
        return dataset

    def _version(
        self, session: Session, identity: Identity, dataset: Dataset, wanted: str | None
    ) -> DatasetVersion:
        versions = [
            v for v in versions_of(session, dataset.id) if _is_admin(identity) or v.published_at
        ]
        if wanted is not None:
            versions = [v for v in versions if v.version == wanted]
        if not versions:
            raise NotFoundError(f"dataset {dataset.slug!r} has no version {wanted or ''}".strip())
        return versions[-1]


def _record_access(identity: Identity) -> Callable[[SeriesRow], bool]:
    """May `identity` see this row's record? Decided once per visibility and site."""
    decided: dict[tuple[Visibility, str], bool] = {}

    def allowed(row: SeriesRow) -> bool:
        key = (row.visibility, row.site)
        if key not in decided:
            decided[key] = access_to(identity, row.visibility, row.site) is Access.RECORDS
        return decided[key]

    return allowed


def _parse_spec(spec: DatasetSpec | Mapping[str, Any]) -> DatasetSpec:
    if isinstance(spec, DatasetSpec):
        return spec
    try:
        return DatasetSpec.model_validate(spec)
    except PydanticValidationError as exc:
        details = [ErrorDetail(e["msg"], ".".join(str(p) for p in e["loc"])) for e in exc.errors()]
        raise ValidationError("invalid dataset", details) from None


def _edit(
    session: Session, dataset: Dataset, curation: DatasetCuration, patch: MetadataPatch
) -> None:
    _known_sites(session, patch)
    dataset.meta = apply_patch(dataset.meta, patch)
    if patch.titles:
        dataset.title = patch.titles[0]
    if "descriptions" in patch.model_fields_set:
        dataset.description = (patch.descriptions or [""])[0]
    if patch.access_conditions is not None:
        curation.access_conditions = [a.model_dump() for a in patch.access_conditions]
    if patch.custom_fields is not None:
        curation.custom_fields = dict(patch.custom_fields)


def _known_sites(session: Session, patch: MetadataPatch) -> None:
    """Access conditions name sites the catalogue knows."""
    named = {a.site for a in patch.access_conditions or []}
    if not named:
        return
    known = set(session.exec(select(Site.slug).where(col(Site.slug).in_(named))).all())
    unknown = [
        ErrorDetail(f"no site {a.site!r}", f"access_conditions[{i}].site")
        for i, a in enumerate(patch.access_conditions or [])
        if a.site not in known
    ]
    if unknown:
        raise ValidationError("invalid dataset metadata", unknown)


def _require_admin(identity: Identity) -> None:
    if identity.is_anonymous:
        raise AuthenticationError("sign in to curate datasets")
    if not _is_admin(identity):
        raise PermissionDeniedError("only consortium admins curate datasets")


def _is_admin(identity: Identity) -> bool:
    return "admin" in identity.roles


def _concept_action(state: DoiState, action: DoiAction) -> DoiAction:
    """A concept DOI not yet registered takes the version's action; a registered or hidden
    one is published again when the version is; otherwise its metadata is updated."""
    if state in (DoiState.DRAFT, DoiState.RESERVED):
        return action
    if action is DoiAction.PUBLISH and state is not DoiState.FINDABLE:
        return DoiAction.PUBLISH
    return DoiAction.UPDATE


def _republish(
    session: Session, dataset: Dataset, latest: DatasetVersion, findable: bool
) -> list[DoiTask]:
    if not findable or latest.state is DoiState.FINDABLE:
        raise ConflictError(
            f"version {latest.version} is published: create a new version to publish again"
        )
    tasks = [queue(session, dataset, latest, DoiAction.PUBLISH)]
    if dataset.state is not DoiState.FINDABLE:
        tasks.append(queue(session, dataset, None, DoiAction.PUBLISH))
    return tasks


def _draft(session: Session, dataset: Dataset) -> DatasetVersion:
    latest = versions_of(session, dataset.id)[-1]
    if latest.published_at is not None:
        raise ConflictError(
            f"version {latest.version} is published: create a new version to publish again"
        )
    return latest


def _findable(
    session: Session, dataset: Dataset, version: str | None
) -> list[DatasetVersion | None]:
    versions = versions_of(session, dataset.id)
    if version is not None:
        return [v for v in versions if v.version == version and v.state is DoiState.FINDABLE]
    found: list[DatasetVersion | None] = [v for v in versions if v.state is DoiState.FINDABLE]
    if dataset.state is DoiState.FINDABLE:
        found.insert(0, None)
    return found
