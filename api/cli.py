"""The `catalogue` command: serve a node, run the demo, harvest, index, check sources, doctor."""

from __future__ import annotations

import gc
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from api.cli_access import grants_app, keys_app, tokens_app
from api.cli_datasets import datasets_app
from api.cli_ontology import curation_app, ontology_app, terms
from api.harvesting import configured_sources as _sources
from catalogue import __version__
from catalogue.checks import (
    CheckResult,
    check_data_dir,
    check_search,
    check_sources,
    check_store,
)
from catalogue.errors import (
    CatalogueError,
    ConfigurationError,
    ConflictError,
    HarvestError,
    SearchUnavailableError,
)
from catalogue.models import HarvestRun, RunStatus
from catalogue.search import Indexer, backend_from_settings
from catalogue.services.coding import CodingService, load_ontology
from catalogue.services.ingest import DeletionPolicy, IngestService
from catalogue.settings import Settings, load_settings, settings_table
from catalogue.sources import SourceSpec
from catalogue.store import Store
from harvesters.base import Report
from harvesters.registry import config_models, fields_table, installed
from harvesters.runner import Runner

app = typer.Typer(
    name="catalogue",
    help="A node of the federated imaging catalogue: harvest metadata, search it, publish it.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
sources_app = typer.Typer(help="List and check the configured sources.", no_args_is_help=True)
app.add_typer(sources_app, name="sources")
app.add_typer(keys_app, name="keys")
app.add_typer(tokens_app, name="tokens")
app.add_typer(grants_app, name="grants")
app.add_typer(datasets_app, name="datasets")
app.add_typer(curation_app, name="curation")
app.add_typer(ontology_app, name="ontology")
app.command("terms")(terms)
index_app = typer.Typer(help="Inspect, update and rebuild the search index.", no_args_is_help=True)
app.add_typer(index_app, name="index")
console = Console()
errors = Console(stderr=True)


def _version(value: bool) -> None:
    if value:
        console.print(f"catalogue {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    ctx: typer.Context,
    data_dir: Annotated[
        Path | None,
        typer.Option(
            help="Directory for the database, embedded index and logs "
            "(env CATALOGUE_DATA_DIR; default ./var).",
            show_default=False,
        ),
    ] = None,
    sources: Annotated[
        Path | None,
        typer.Option(help="Sources YAML file (env CATALOGUE_SOURCES_FILE).", show_default=False),
    ] = None,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Show the version and exit."
        ),
    ] = False,
) -> None:
    ctx.obj = {"data_dir": data_dir, "sources_file": sources}


def _settings(ctx: typer.Context, **more: object) -> Settings:
    return load_settings(**ctx.obj, **more)


def _store(settings: Settings) -> Store:
    return Store(settings.store_url, settings.base_iri)


def _prepare(settings: Settings) -> Store:
    """Migrate the store to the current schema and register this node's site."""
    store = _store(settings)
    store.upgrade()
    store.ensure_site(settings.site_slug, settings.node_name)
    return store


Host = Annotated[
    str | None, typer.Option(help="Bind address (default 127.0.0.1).", show_default=False)
]
Port = Annotated[int | None, typer.Option(help="Port (default 8000).", show_default=False)]


@app.command()
def serve(
    ctx: typer.Context,
    host: Host = None,
    port: Port = None,
) -> None:
    """Serve the API (GraphQL, REST) and the web UI; migrates the store first."""
    settings = _settings(ctx, host=host, port=port)
    _run_server(settings, _prepare(settings))


def _run_server(settings: Settings, store: Store) -> None:
    import uvicorn

    from api.app import create_app

    console.print(
        f"[bold]{settings.node_name}[/] on http://{settings.host}:{settings.port}  "
        f"(GraphQL /graphql, health /health, data {settings.data_dir})"
    )
    node = create_app(settings, store)
    # This process serves one node for its life: what start-up built (ontology, schemas, routes)
    # is frozen out of garbage collection, which would otherwise walk it again and again (a few
    # tenths of a millisecond on every search: bench/search_overhead.py). Garbage goes first.
    gc.collect()
    gc.freeze()
    uvicorn.run(
        node,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level.lower(),
    )


@app.command()
def demo(
    ctx: typer.Context,
    host: Host = None,
    port: Port = None,
    serve_it: Annotated[
        bool, typer.Option("--serve/--no-serve", help="Serve the node after harvesting.")
    ] = True,
    scale: Annotated[
        float, typer.Option(min=0.01, max=10, help="Size of the demo (1: about 2,400 people).")
    ] = 1.0,
    xnat_port: Annotated[
        int, typer.Option(min=0, max=65535, help="Port of the demo's XNAT (0: any free port).")
    ] = 8070,
) -> None:
    """Set up a demo node: three sites' sources generated and harvested, a published dataset."""
    from api.demo.node import admin_token, published_dataset, register_sites, running_sources

    settings = _settings(ctx, host=host, port=port)
    with running_sources(settings, scale, console.print, xnat_port) as settings:
        store = _store(settings)
        store.upgrade()
        register_sites(store)
        runs = _harvest(settings, store, _sources(settings), full=False)
        _print_runs(runs)
        _catch_up(settings, store)
        dataset = published_dataset(settings, store, console.print)
        _catch_up(settings, store)  # the dataset's documents
        url = f"http://{settings.host}:{settings.port}/"
        console.print(f"demo dataset: {url}id/dataset/{dataset.id}  ({dataset.concept_doi})")
        token = admin_token(settings)
        if token:
            console.print("sign in as the demo administrator with this token (valid 12 hours):")
            print(token)
        console.print(f"[bold]cohort builder: {url}[/]")
        if serve_it:
            _run_server(settings, store)


@app.command()
def migrate(
    ctx: typer.Context,
    to: Annotated[
        str, typer.Option(help="Target revision (`head`, or an id to step down to).")
    ] = "head",
) -> None:
    """Bring the store's schema to a revision (default: the newest)."""
    settings = _settings(ctx)
    store = _store(settings)
    before = store.current_revision()
    if to == "head" or before is None:
        store.upgrade(to)
    else:
        store.downgrade(to)
    console.print(f"{store.display_url}: schema {before or 'empty'} → {store.current_revision()}")


@app.command()
def harvest(
    ctx: typer.Context,
    name: Annotated[str | None, typer.Argument(help="Source to harvest.")] = None,
    all_sources: Annotated[
        bool, typer.Option("--all", help="Harvest every enabled source.")
    ] = False,
    full: Annotated[
        bool, typer.Option(help="Walk the whole source, ignoring the bookmark.")
    ] = False,
) -> None:
    """Harvest one source, or all enabled sources, and show what changed."""
    if (name is None) == (not all_sources):
        raise ConfigurationError("name one source, or pass --all")
    settings = _settings(ctx)
    specs = _sources(settings)
    chosen = (
        [s for s in specs if s.enabled] if all_sources else [s for s in specs if s.name == name]
    )
    if not chosen:
        known = ", ".join(s.name for s in specs) or "none configured"
        raise ConfigurationError(
            f"no source named {name!r} (sources: {known})" if name else "no enabled sources"
        )
    store = _prepare(settings)
    runs = _harvest(settings, store, chosen, full=full)
    _print_runs(runs)
    _catch_up(settings, store)
    if any(run is None or run.status is not RunStatus.SUCCEEDED for _, run in runs):
        raise typer.Exit(1)


def _harvest(
    settings: Settings, store: Store, specs: list[SourceSpec], *, full: bool
) -> list[tuple[SourceSpec, HarvestRun | None]]:
    runner = Runner(
        IngestService(store, CodingService(load_ontology(settings))),
        settings.site_slug,
        pseudonym_secret=settings.pseudonym_key(),
        policy=DeletionPolicy(
            after_missed_runs=settings.harvest_delete_after_runs,
            failsafe_ratio=settings.harvest_delete_failsafe_ratio,
        ),
    )
    runs: list[tuple[SourceSpec, HarvestRun | None]] = []
    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TextColumn("{task.completed} items"),
        TimeElapsedColumn(),
    )
    for spec in specs:
        with Progress(*columns, console=console, transient=True) as progress:
            task = progress.add_task(f"harvesting {spec.name}", total=None)

            def advance(items: int, task: TaskID = task, progress: Progress = progress) -> None:
                progress.update(task, completed=items)

            try:
                run = runner.run(spec, full=full, progress=advance)
            except HarvestError as exc:
                errors.print(f"[red]{spec.name}:[/] {exc.message}", highlight=False)
                run = None
        runs.append((spec, run))
    return runs


def _catch_up(settings: Settings, store: Store) -> None:
    """Index what the harvest changed; an engine outage only postpones it (the outbox keeps it)."""
    try:
        report = Indexer(store, backend_from_settings(settings)).drain()
    except SearchUnavailableError as exc:
        errors.print(f"[yellow]index not updated:[/] {exc.message}", highlight=False)
        return
    if report.busy:
        console.print("a serving node is indexing these changes")


def _print_runs(runs: list[tuple[SourceSpec, HarvestRun | None]]) -> None:
    table = Table(
        "source", "status", "seen", "added", "updated", "unchanged", "deleted", "failed", "seconds"
    )
    for spec, run in runs:
        if run is None:
            table.add_row(spec.name, "[red]failed[/]", *[""] * 7)
            continue
        seconds = (run.finished_at - run.started_at).total_seconds() if run.finished_at else 0
        colour = {"succeeded": "green", "partial": "yellow"}.get(run.status.value, "red")
        table.add_row(
            spec.name,
            f"[{colour}]{run.status.value}[/]",
            *(
                str(n)
                for n in (run.seen, run.added, run.updated, run.unchanged, run.deleted, run.failed)
            ),
            f"{seconds:.1f}",
        )
    console.print(table)
    for spec, run in runs:
        for error in (run.errors if run else [])[:10]:
            where = f" {error['native_id']}" if error["native_id"] else ""
            console.print(f"  {spec.name}{where}: {error['reason']}", highlight=False)


@index_app.command("status")
def index_status(ctx: typer.Context) -> None:
    """Show the search backend, the outbox lag and the documents indexed."""
    status = _indexer(_settings(ctx)).status()
    table = Table("backend", "pending", "lag", "index", "documents", "size")
    documents = ", ".join(f"{kind} {n}" for kind, n in sorted(status.documents.items()))
    size = f"{status.size_bytes / 2**20:.1f} MiB" if status.size_bytes is not None else ""
    table.add_row(
        status.backend,
        str(status.pending),
        f"{status.lag_seconds:.0f} s",
        status.index or "",
        documents,
        size,
    )
    console.print(table)
    if status.error:
        errors.print(f"[red]search engine:[/] {status.error}", highlight=False)
        raise typer.Exit(1)


@index_app.command("drain")
def index_drain(ctx: typer.Context) -> None:
    """Apply the changes waiting in the outbox to the search index."""
    report = _indexer(_settings(ctx)).drain()
    if report.busy:
        raise ConflictError("another indexer is running: try again when it has finished")
    console.print(
        f"applied {report.entries} change(s): {report.documents} document(s) written, "
        f"{report.deletions} deleted"
    )


@index_app.command("rebuild")
def index_rebuild(ctx: typer.Context) -> None:
    """Rebuild the index from the store into a new index and swap it in (no downtime)."""
    indexer = _indexer(_settings(ctx))
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, TimeElapsedColumn(), console=console, transient=True) as progress:
        task = progress.add_task("rebuilding the search index", total=None)

        def advance(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        report = indexer.rebuild(advance)
    console.print(
        f"rebuilt {indexer.backend.name}: {report.subjects} subject(s), "
        f"{report.documents} document(s); {report.drained.entries} later change(s) applied"
    )


def _indexer(settings: Settings) -> Indexer:
    return Indexer(_prepare(settings), backend_from_settings(settings))


@sources_app.command("list")
def sources_list(ctx: typer.Context) -> None:
    """List the sources in the sources file."""
    specs = _sources(_settings(ctx))
    table = Table("name", "kind", "enabled", "description")
    for spec in specs:
        table.add_row(spec.name, spec.kind, "yes" if spec.enabled else "no", spec.description)
    console.print(
        table if specs else "No sources configured (set --sources or CATALOGUE_SOURCES_FILE)."
    )


@sources_app.command("kinds")
def sources_kinds(
    kind: Annotated[str | None, typer.Argument(help="Show this kind's fields.")] = None,
) -> None:
    """List the installed harvester kinds, or the fields of one (as Markdown)."""
    kinds = installed()
    if kind is None:
        for name, harvester in sorted(kinds.items()):
            console.print(f"{name}  ({harvester.__module__}.{harvester.__qualname__})")
        return
    if kind not in kinds:
        raise ConfigurationError(f"no harvester kind {kind!r} (installed: {', '.join(kinds)})")
    print(fields_table(kinds[kind].Config))


@sources_app.command("check")
def sources_check(ctx: typer.Context) -> None:
    """Validate the sources file, then check that each enabled source can be reached."""
    settings = _settings(ctx)
    checks = [check_sources(settings, config_models())]
    if checks[0].ok:
        checks += [_check_connection(settings, spec) for spec in _sources(settings) if spec.enabled]
    _print_checks(checks)
    if not all(c.ok for c in checks):
        raise typer.Exit(1)


def _check_connection(settings: Settings, spec: SourceSpec) -> CheckResult:
    runner = Runner(IngestService(_store(settings)), settings.site_slug, pseudonym_secret=None)
    try:
        runner.harvester(spec, Report()).check_connection()
    except CatalogueError as exc:
        return CheckResult(
            name=spec.name,
            ok=False,
            detail=exc.message,
            fix="correct the source's settings or make it reachable",
        )
    return CheckResult(name=spec.name, ok=True, detail=f"{spec.kind}: reachable")


@app.command()
def doctor(ctx: typer.Context) -> None:
    """Check the data directory, database, search engine and sources, and say what to fix."""
    settings = _settings(ctx)
    store = _store(settings)
    kinds = ", ".join(sorted(installed())) or "none"
    checks = [
        check_data_dir(settings),
        check_store(store),
        check_search(settings),
        check_sources(settings, config_models()),
        CheckResult(name="harvesters", ok=True, detail=f"installed kinds: {kinds}"),
    ]
    _print_checks(checks)
    if not all(c.ok for c in checks):
        raise typer.Exit(1)


@app.command("settings")
def show_settings(
    ctx: typer.Context,
    markdown: Annotated[bool, typer.Option(help="Print the documentation table instead.")] = False,
) -> None:
    """Show the effective settings, secrets redacted."""
    if markdown:
        print(settings_table())
        return
    table = Table("setting", "value")
    for name, value in _settings(ctx).redacted().items():
        table.add_row(f"CATALOGUE_{name.upper()}", str(value))
    console.print(table)


def _print_checks(checks: list[CheckResult]) -> None:
    """One line per check; a failing check adds its (possibly multi-line) detail and the fix."""
    width = max(len(c.name) for c in checks)
    for c in checks:
        mark = "[green]ok  [/]" if c.ok else "[red]FAIL[/]"
        first, *rest = c.detail.splitlines() or [""]
        console.print(f"{mark} {c.name:<{width}}  {first}", highlight=False)
        for line in rest:
            console.print(f"     {'':<{width}}  {line}", highlight=False)
        if not c.ok and c.fix:
            console.print(f"     {'':<{width}}  [bold]fix:[/] {c.fix}", highlight=False)


def main() -> None:
    try:
        app()
    except CatalogueError as exc:
        errors.print(f"[red]error:[/] {exc}", highlight=False, markup=True)
        raise SystemExit(2) from None
