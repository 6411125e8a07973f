"""`catalogue datasets ...`: curate datasets and their DOIs from the command line, as the node's
operator (an admin: the command line has the store's credentials anyway)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml
from rich.console import Console

from catalogue.access import Identity
from catalogue.errors import ConfigurationError
from catalogue.publishing.factory import dataset_service
from catalogue.publishing.service import DatasetService
from catalogue.publishing.views import DatasetView
from catalogue.search import Indexer, SearchService, backend_from_settings
from catalogue.settings import load_settings
from catalogue.store import Store

OPERATOR = Identity(subject="operator", roles=frozenset({"admin"}))
datasets_app = typer.Typer(
    help="Curated datasets: create from a cohort or a selection, reserve and publish DOIs.",
    no_args_is_help=True,
)
console = Console()
Key = Annotated[str, typer.Argument(help="The dataset's slug, id or DOI.")]
AsJson = Annotated[bool, typer.Option("--json", help="Print the dataset as JSON.")]


@contextmanager
def _service(ctx: typer.Context) -> Iterator[DatasetService]:
    """The service over a migrated store and an index brought up to date (cohort queries are
    answered from it)."""
    settings = load_settings(**(ctx.obj or {}))
    store = Store(settings.store_url, settings.base_iri)
    backend = backend_from_settings(settings)
    try:
        store.upgrade()
        Indexer(store, backend).drain()
        search = SearchService(store, backend, settings.suppression_threshold)
        yield dataset_service(settings, store, search)
    finally:
        backend.close()
        store.dispose()


@contextmanager
def _dataset(ctx: typer.Context, key: str) -> Iterator[tuple[DatasetService, uuid.UUID]]:
    """The service and the id of the dataset `key` names."""
    with _service(ctx) as service:
        yield service, service.find(OPERATOR, key)


def _act(
    ctx: typer.Context,
    key: str,
    as_json: bool,
    action: Callable[[DatasetService, uuid.UUID], DatasetView],
) -> None:
    """Act on the dataset `key` names and print what it became."""
    with _dataset(ctx, key) as (service, dataset):
        _print(action(service, dataset), as_json)


def _load(path: Path | None) -> dict[str, Any] | None:
    """A JSON or YAML mapping from a file."""
    if path is None:
        return None
    try:
        found = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigurationError(f"cannot read {path}: {type(exc).__name__}") from None
    if not isinstance(found, dict):
        raise ConfigurationError(f"{path} must hold a mapping")
    return found


def _print(view: DatasetView, as_json: bool) -> None:
    """The dataset; exits 1 when DOI calls failed (they stay on the dataset: `retry`)."""
    if as_json:
        print(view.model_dump_json(indent=1))
    else:
        console.print(f"[bold]{view.slug}[/]  {view.title}  ({view.state})", highlight=False)
        concept = view.concept_doi or "-"
        note = "" if view.doi_registered else "  [yellow]demo DOI, not registered[/]"
        console.print(f"concept DOI  {concept}{note}", highlight=False)
        for v in view.versions:
            counted = ", ".join(f"{c.site}: {c.subjects}" for c in v.counted) or "none"
            console.print(
                f"version {v.version}  {v.state:<10} {v.doi or '-'}  {v.members} series listed; "
                f"counted subjects by site: {counted}",
                highlight=False,
            )
        if view.tombstoned_at:
            console.print(
                f"[red]withdrawn[/] {view.tombstoned_at:%Y-%m-%d}: {view.tombstone_reason}"
            )
    for f in view.failures:
        console.print(f"[red]DOI {f.action} failed[/] {f.doi}: {f.error}", highlight=False)
        for d in f.details:
            console.print(f"    {d.get('location') or ''}: {d.get('message')}", highlight=False)
    if view.failures:
        console.print("fix what is shown, then: catalogue datasets retry " + view.slug)
        raise typer.Exit(1)


@datasets_app.command("create")
def create(
    ctx: typer.Context,
    slug: Annotated[str, typer.Argument(help="Short name: lowercase letters, digits and -.")],
    title: Annotated[str, typer.Option(help="The dataset's title.")],
    query: Annotated[
        Path | None, typer.Option(help="A cohort query (JSON or YAML file), frozen now.")
    ] = None,
    member: Annotated[
        list[str] | None, typer.Option(help="A subject or series IRI (repeat).")
    ] = None,
    metadata: Annotated[
        Path | None, typer.Option(help="Metadata (JSON or YAML): creators, license, ...")
    ] = None,
    description: Annotated[str, typer.Option(help="An abstract.")] = "",
    as_json: AsJson = False,
) -> None:
    """Create a dataset from a cohort query or from explicit members."""
    spec = {
        "slug": slug, "title": title, "description": description, "query": _load(query),
        "members": member or [], "metadata": _load(metadata),
    }  # fmt: skip
    with _service(ctx) as service:
        _print(service.create(OPERATOR, spec), as_json)


@datasets_app.command("show")
def show(ctx: typer.Context, key: Key, as_json: AsJson = False) -> None:
    """A dataset, its versions, DOIs and failed DOI calls."""
    _act(ctx, key, as_json, lambda s, d: s.show(OPERATOR, d))


@datasets_app.command("edit")
def edit(
    ctx: typer.Context,
    key: Key,
    metadata: Annotated[Path, typer.Option(help="The fields to replace (JSON or YAML).")],
    as_json: AsJson = False,
) -> None:
    """Change the metadata; DOIs already sent get the change."""
    _act(ctx, key, as_json, lambda s, d: s.edit(OPERATOR, d, _load(metadata) or {}))


@datasets_app.command("reserve")
def reserve(ctx: typer.Context, key: Key, as_json: AsJson = False) -> None:
    """Reserve the concept DOI and the draft version's DOI (shown, not public)."""
    _act(ctx, key, as_json, lambda s, d: s.reserve(OPERATOR, d))


@datasets_app.command("publish")
def publish(
    ctx: typer.Context,
    key: Key,
    registered_only: Annotated[
        bool, typer.Option(help="Register the DOI without listing it in DataCite's search.")
    ] = False,
    as_json: AsJson = False,
) -> None:
    """Publish the draft version: its DOI findable, listed under the concept DOI."""
    _act(ctx, key, as_json, lambda s, d: s.publish(OPERATOR, d, findable=not registered_only))


@datasets_app.command("new-version")
def new_version(
    ctx: typer.Context,
    key: Key,
    member: Annotated[list[str] | None, typer.Option(help="An IRI to add (repeat).")] = None,
    as_json: AsJson = False,
) -> None:
    """A new draft version: the cohort query run again now (or the selection), plus members."""
    _act(ctx, key, as_json, lambda s, d: s.new_version(OPERATOR, d, member))


@datasets_app.command("hide")
def hide(
    ctx: typer.Context,
    key: Key,
    version: Annotated[str | None, typer.Option(help="Only this version.")] = None,
    as_json: AsJson = False,
) -> None:
    """Take findable DOIs out of DataCite's search; they keep resolving."""
    _act(ctx, key, as_json, lambda s, d: s.hide(OPERATOR, d, version))


@datasets_app.command("retry")
def retry(ctx: typer.Context, key: Key, as_json: AsJson = False) -> None:
    """Call the DOI provider again for every change that failed."""
    _act(ctx, key, as_json, lambda s, d: s.retry(OPERATOR, d))


@datasets_app.command("delete")
def delete(
    ctx: typer.Context,
    key: Key,
    reason: Annotated[str, typer.Option(help="Shown on the tombstone page.")],
    as_json: AsJson = False,
) -> None:
    """Withdraw the dataset: a tombstone stays, its DOIs keep resolving to it."""
    _act(ctx, key, as_json, lambda s, d: s.delete(OPERATOR, d, reason))


@datasets_app.command("manifest")
def manifest(
    ctx: typer.Context,
    key: Key,
    fmt: Annotated[str, typer.Option("--format", help="csv or json.")] = "csv",
    version: Annotated[str | None, typer.Option(help="A version (default: the latest).")] = None,
    output: Annotated[Path | None, typer.Option(help="Write here instead of stdout.")] = None,
) -> None:
    """One row per series with its access address at the site and the loader's fields."""
    if fmt not in ("csv", "json"):
        raise ConfigurationError("--format must be csv or json")
    with _dataset(ctx, key) as (service, dataset):
        text = service.manifest(OPERATOR, dataset, fmt, version)  # type: ignore[arg-type]
    if output is None:
        print(text, end="")
    else:
        output.write_text(text, encoding="utf-8")


@datasets_app.command("datasheet")
def datasheet(ctx: typer.Context, key: Key) -> None:
    """How the members spread over sites, modalities, sequence types, sex, age, scanners."""
    with _dataset(ctx, key) as (service, dataset):
        sheet = service.datasheet(OPERATOR, dataset)
    print(json.dumps(sheet.model_dump(mode="json"), indent=1))
