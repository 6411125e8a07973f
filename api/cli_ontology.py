"""`catalogue curation ...`, `catalogue ontology ...` and `catalogue terms`: the curation queue,
curator decisions, the node's mappings as SSSOM, and term look-up, as the node's operator (an
admin: the command line has the store's credentials anyway)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer
from pydantic import BaseModel
from rich.console import Console
from rich.table import Table

from catalogue.access import Identity
from catalogue.errors import SearchUnavailableError
from catalogue.search import Indexer, backend_from_settings
from catalogue.services.coding import CodingService, load_ontology
from catalogue.services.curation import CurationService, Remapped
from catalogue.services.terms import TermInfo, TermService
from catalogue.settings import Settings, load_settings
from catalogue.store import Store

OPERATOR = Identity(subject="operator", roles=frozenset({"admin"}))
curation_app = typer.Typer(
    help="Values the ontology could not map, or mapped unsurely, and curators' decisions.",
    no_args_is_help=True,
)
ontology_app = typer.Typer(help="The node's ontology and mappings.", no_args_is_help=True)
console = Console()
Field = Annotated[str, typer.Argument(help="Coded field: body_part, modality, diagnosis...")]
Value = Annotated[str, typer.Argument(help="The value as the site wrote it.")]
Note = Annotated[str, typer.Option(help="Why (kept with the decision).")]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON.")]


@dataclass
class _Node:
    settings: Settings
    store: Store
    terms: TermService
    curation: CurationService


@contextmanager
def _node(ctx: typer.Context) -> Iterator[_Node]:
    settings = load_settings(**(ctx.obj or {}))
    ontology = load_ontology(settings)
    store = Store(settings.store_url, settings.base_iri)
    try:
        store.upgrade()
        terms = TermService(store, ontology, settings.suppression_threshold)
        curation = CurationService(
            store, CodingService(ontology), terms, settings.curation_review_below
        )
        yield _Node(settings, store, terms, curation)
    finally:
        store.dispose()


@curation_app.command("list")
def curation_list(
    ctx: typer.Context,
    field: Annotated[str | None, typer.Option(help="Only this coded field.")] = None,
    source: Annotated[str | None, typer.Option(help="Only records of this source.")] = None,
    limit: Annotated[int, typer.Option(help="At most this many values.")] = 50,
    as_json: AsJson = False,
) -> None:
    """Unmapped and low-confidence values, most records first, with counts per source."""
    with _node(ctx) as node:
        queue = node.curation.queue(OPERATOR, field=field, source=source, limit=limit)
    if as_json:
        print(json.dumps([e.model_dump(mode="json") for e in queue], indent=2))
        return
    table = Table("field", "value", "records", "sources", "now", "suggestions")
    for e in queue:
        now = f"{e.concept.curie} {e.concept.label} ({e.confidence:.2f})" if e.concept else "—"
        table.add_row(
            e.field,
            e.value,
            str(e.records),
            ", ".join(f"{s.source}: {s.records}" for s in e.sources),
            now,
            "; ".join(f"{s.curie} {s.label}" for s in e.suggestions),
        )
    console.print(table if queue else "Nothing waits for a curator.")


@curation_app.command("accept")
def curation_accept(
    ctx: typer.Context, field: Field, value: Value, note: Note = "", as_json: AsJson = False
) -> None:
    """Confirm the concept the mapper proposes for a value; re-maps every record carrying it."""
    with _node(ctx) as node:
        result = node.curation.accept(OPERATOR, field, value, note)
        _reindex(node)
    _print_remapped(result, as_json)


@curation_app.command("override")
def curation_override(
    ctx: typer.Context,
    field: Field,
    value: Value,
    concept: Annotated[
        str | None, typer.Argument(help="CURIE or IRI of the concept (omit with --none).")
    ] = None,
    none: Annotated[bool, typer.Option("--none", help="No concept applies.")] = False,
    note: Note = "",
    as_json: AsJson = False,
) -> None:
    """Map a value to another concept, or to none; re-maps every record carrying it."""
    if (concept is None) != none:
        raise typer.BadParameter("give a concept, or --none")
    with _node(ctx) as node:
        result = node.curation.override(OPERATOR, field, value, concept, note)
        _reindex(node)
    _print_remapped(result, as_json)


@ontology_app.command("export-sssom")
def export_sssom(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="SSSOM/TSV file to write.")],
) -> None:
    """Write the node's mappings, curator decisions included, as an SSSOM/TSV table."""
    with _node(ctx) as node:
        rows = node.curation.export_sssom(OPERATOR, path)
    console.print(f"Wrote {rows} mappings to {path}")


def terms(
    ctx: typer.Context,
    text: Annotated[str, typer.Argument(help="A CURIE or IRI, or the start of a label.")],
    field: Annotated[str | None, typer.Option(help="Only terms this coded field takes.")] = None,
    limit: Annotated[int, typer.Option(help="At most this many terms.")] = 10,
    counts: Annotated[bool, typer.Option(help="Count catalogue records per term.")] = False,
    as_json: AsJson = False,
) -> None:
    """Look terms up: one by CURIE or IRI, else those whose label or synonym starts with TEXT."""
    with _node(ctx) as node:
        known = node.terms.ontology.term(text) if ":" in text else None
        found = (
            [node.terms.get(known.iri, identity=OPERATOR, counts=counts)]
            if known
            else node.terms.autocomplete(
                text, field=field, limit=limit, identity=OPERATOR, counts=counts
            )
        )
    if as_json:
        print(json.dumps([t.model_dump(mode="json") for t in found], indent=2))
        return
    _print_terms(found, counts)


def _print_terms(found: list[TermInfo], counts: bool) -> None:
    table = Table("curie", "label", "synonyms", *(["records"] if counts else []))
    for t in found:
        count = [str(t.count.records) if t.count and t.count.records is not None else "suppressed"]
        table.add_row(
            t.curie or t.iri, t.label, "; ".join(t.synonyms[:4]), *(count if counts else [])
        )
    console.print(table if found else "No term found.")


def _reindex(node: _Node) -> None:
    """Bring the index up to date now; if the engine is down, the next drain catches up."""
    backend = backend_from_settings(node.settings)
    try:
        Indexer(node.store, backend).drain()
    except SearchUnavailableError as exc:
        console.print(f"[yellow]index not updated now:[/] {exc.message}", highlight=False)
    finally:
        backend.close()


def _print_remapped(result: Remapped, as_json: bool) -> None:
    if as_json:
        print(_dump(result))
        return
    target = f"{result.concept.curie} {result.concept.label}" if result.concept else "no concept"
    console.print(
        f"{result.field} {result.value!r} → {target}: {result.records} record(s) re-mapped",
        highlight=False,
    )


def _dump(model: BaseModel) -> str:
    return json.dumps(model.model_dump(mode="json"), indent=2)
