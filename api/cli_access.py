"""`catalogue keys create|list|revoke` and `catalogue tokens revoke`: run by the node's operator,
who acts as an admin (the command line has the store's credentials anyway)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from catalogue.access import ClientScope, Identity, Role
from catalogue.apikeys import ApiKeyService, ApiKeyView
from catalogue.models import utcnow
from catalogue.revocations import TokenRevocations
from catalogue.settings import Settings, load_settings
from catalogue.store import Store

OPERATOR = Identity(subject="operator", roles=frozenset({Role.ADMIN.value}), via="cli")

keys_app = typer.Typer(help="API keys of platform clients.", no_args_is_help=True)
tokens_app = typer.Typer(help="Bearer tokens: revoke one before it expires.", no_args_is_help=True)
console = Console()


def _open(ctx: typer.Context) -> tuple[Settings, Store]:
    settings = load_settings(**(ctx.obj or {}))
    store = Store(settings.store_url, settings.base_iri)
    store.upgrade()
    return settings, store


@keys_app.command("create")
def keys_create(
    ctx: typer.Context,
    client: Annotated[str, typer.Argument(help="The platform the key is for.")],
    scope: Annotated[
        list[str] | None,
        typer.Option(
            help="A scope (repeat): " + ", ".join(s.value for s in ClientScope) + ".",
            show_default="records:read counts:read",
        ),
    ] = None,
    days: Annotated[int, typer.Option(help="Days until the key expires.")] = 90,
    description: Annotated[str, typer.Option(help="What the key is used for.")] = "",
) -> None:
    """Create a key and print it once; only its hash is kept."""
    settings, store = _open(ctx)
    scopes = scope or [ClientScope.RECORDS.value, ClientScope.COUNTS.value]
    service = ApiKeyService(store, settings.api_key_max_days)
    key, view = service.create(OPERATOR, client, scopes, days, description)
    console.print(f"key id   {view.id}\nclient   {view.client}\nscopes   {' '.join(view.scopes)}")
    console.print(f"expires  {view.expires_at:%Y-%m-%d %H:%M} UTC")
    console.print("the key (shown once; send it as `Authorization: Bearer <key>`):")
    print(key)


@keys_app.command("list")
def keys_list(
    ctx: typer.Context,
    client: Annotated[str | None, typer.Option(help="Only this client's keys.")] = None,
) -> None:
    """Every key: id, client, scopes, expiry and whether it is revoked (never the key)."""
    settings, store = _open(ctx)
    table = Table("id", "client", "scopes", "created", "expires", "state")
    for k in ApiKeyService(store, settings.api_key_max_days).list(OPERATOR, client):
        table.add_row(
            k.id, k.client, " ".join(k.scopes), _day(k.created_at), _day(k.expires_at), _state(k)
        )
    console.print(table)


@keys_app.command("revoke")
def keys_revoke(
    ctx: typer.Context, key_id: Annotated[str, typer.Argument(help="The key's id.")]
) -> None:
    """Revoke a key: it is refused from the next request on."""
    settings, store = _open(ctx)
    view = ApiKeyService(store, settings.api_key_max_days).revoke(OPERATOR, key_id)
    console.print(f"revoked {view.id} ({view.client})")


@tokens_app.command("revoke")
def tokens_revoke(
    ctx: typer.Context,
    jti: Annotated[str, typer.Argument(help="The token's `jti` claim.")],
    reason: Annotated[str, typer.Option(help="Why, for the record.")] = "",
) -> None:
    """Refuse a bearer token by its `jti` before it expires."""
    _, store = _open(ctx)
    TokenRevocations(store).revoke(OPERATOR, jti, reason=reason)
    console.print(f"revoked token {jti}")


def _day(moment: datetime) -> str:
    return f"{moment:%Y-%m-%d}"


def _state(key: ApiKeyView) -> str:
    if key.revoked_at is not None:
        return "revoked"
    return "expired" if key.expires_at <= utcnow() else "active"
