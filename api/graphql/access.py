"""Who is asking (`me`, with the grants they hold) and the audit log, for administrators."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.scalars import JSON

from api.graphql import relay
from api.graphql.context import Context, blocking
from catalogue.audit import AuditView
from catalogue.errors import ErrorDetail, ValidationError
from catalogue.grants import GrantView

Info = strawberry.Info[Context, None]


@strawberry.type(description="A grant raising what its holder may learn from one collection.")
class Grant:
    id: strawberry.ID
    collection_id: strawberry.ID
    principal_kind: str = strawberry.field(description="`user`, `group` or `client`.")
    principal: str
    level: str = strawberry.field(description="`records` or `counts`.")
    expires_at: datetime | None

    @classmethod
    def of(cls, g: GrantView) -> Grant:
        return cls(
            id=strawberry.ID(str(g.id)),
            collection_id=strawberry.ID(str(g.collection_id)),
            principal_kind=g.principal_kind.value,
            principal=g.principal,
            level=g.level.value,
            expires_at=g.expires_at,
        )


@strawberry.type(description="The caller as this node knows them.")
class Me:
    anonymous: bool
    subject: str | None = strawberry.field(description="The identity's subject (user or client).")
    roles: list[str]
    groups: list[str]
    sites: list[str] = strawberry.field(description="Slugs of the sites the caller curates.")
    scopes: list[str] | None = strawberry.field(
        description="A platform client's scopes; null for people (not limited by scopes)."
    )
    via: str = strawberry.field(
        description="`anonymous`, `token`, `api_key` or `oidc` (signed in with the issuer)."
    )
    grants: list[Grant] = strawberry.field(description="The live grants the caller holds.")


async def me(info: Info) -> Me:
    identity = info.context.identity
    grants = info.context.services.grants
    held = [] if identity.is_anonymous else await blocking(grants.held_by, identity)
    return Me(
        anonymous=identity.is_anonymous,
        subject=identity.subject,
        roles=sorted(identity.roles),
        groups=sorted(identity.groups),
        sites=sorted(identity.sites),
        scopes=sorted(identity.scopes) if identity.scopes is not None else None,
        via=identity.via,
        grants=[Grant.of(g) for g in held],
    )


@strawberry.type(description="A query that touched non-public collections.")
class AuditEntry:
    at: datetime
    subject: str | None
    via: str
    action: str
    query: JSON
    collections: list[str] = strawberry.field(description="Ids of the non-public collections.")
    result_size: int

    @classmethod
    def of(cls, v: AuditView) -> AuditEntry:
        return cls(
            at=v.at,
            subject=v.subject,
            via=v.via,
            action=v.action,
            query=JSON(v.query),
            collections=v.collections,
            result_size=v.result_size,
        )


async def audit_log(
    info: Info, subject: str | None, action: str | None, first: int | None, after: str | None
) -> relay.Connection[AuditEntry]:
    """Newest first; the cursor is the id of the last entry seen."""
    log, identity = info.context.services.audit, info.context.identity
    position = relay.decode(after)
    if position is not None and not isinstance(position, int):
        raise ValidationError("invalid cursor", [ErrorDetail("not a cursor", "after")])
    size = relay.page_size(first)
    page = await blocking(
        lambda: log.entries(
            identity, subject=subject, action=action, after=position, limit=max(size, 1)
        )
    )
    entries = page.entries[:size]

    async def counter() -> int:
        return await blocking(lambda: log.count(identity, subject=subject, action=action))

    return relay.connection(
        [AuditEntry.of(e) for e in entries],
        [relay.encode(e.id) for e in entries],
        has_next=page.next_after is not None,
        has_previous=after is not None,
        counter=counter,
    )
