"""`catalogue keys create|list|revoke`, `catalogue tokens revoke` and `catalogue grants
add|list|revoke`: run by the node's operator, who acts as an admin (the command line has the
store's credentials anyway)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from catalogue.access import ClientScope, Identity, Role
from catalogue.apikeys import ApiKeyService, ApiKeyView
from catalogue.errors import ErrorDetail, ValidationError
from catalogue.grants import GrantService
from catalogue.models import GrantLevel, PrincipalKind, utcnow
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


grants_app = typer.Typer(
    help="Grants: let a user, group or client see more of one collection.", no_args_is_help=True
)


@grants_app.command("add")
def grants_add(
    ctx: typer.Context,
    collection: Annotated[str, typer.Argument(help="The collection's id.")],
    to: Annotated[
        str,
        typer.Option(help="Who: user:<sub>, group:<name> or client:<name>.", show_default=False),
    ],
    level: Annotated[GrantLevel, typer.Option(help="What they may see.")] = GrantLevel.RECORDS,
    days: Annotated[int | None, typer.Option(help="Days until it lapses (default: never).")] = None,
) -> None:
    """Grant (or change) access to a collection."""
    _, store = _open(ctx)
    kind, _, name = to.partition(":")
    if kind not in {k.value for k in PrincipalKind} or not name:
        raise ValidationError("invalid grant", [ErrorDetail("user:, group: or client:", "--to")])
    until = utcnow() + timedelta(days=days) if days else None
    grant = GrantService(store).grant(
        OPERATOR, _collection_id(collection), (PrincipalKind(kind), name), level, until
    )
    console.print(f"granted {grant.level.value} to {to} (grant {grant.id})")


@grants_app.command("list")
def grants_list(
    ctx: typer.Context, collection: Annotated[str, typer.Argument(help="The collection's id.")]
) -> None:
    """The grants on a collection."""
    _, store = _open(ctx)
    table = Table("id", "to", "level", "by", "expires")
    for g in GrantService(store).of_collection(OPERATOR, _collection_id(collection)):
        expires = _day(g.expires_at) if g.expires_at else "never"
        to = f"{g.principal_kind.value}:{g.principal}"
        table.add_row(str(g.id), to, g.level.value, g.granted_by or "", expires)
    console.print(table)


@grants_app.command("revoke")
def grants_revoke(
    ctx: typer.Context, grant: Annotated[str, typer.Argument(help="The grant's id.")]
) -> None:
    """Take a grant back."""
    _, store = _open(ctx)
    GrantService(store).revoke(OPERATOR, _collection_id(grant, "grant"))
    console.print(f"revoked grant {grant}")


def _collection_id(value: str, what: str = "collection") -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise ValidationError(f"invalid {what} id", [ErrorDetail("not a UUID", what)]) from None
