"""Who is asking, and what they may see. Services enforce it; adapters only pass the identity on.

Identities: anonymous; a signed-in researcher; a curator of one or more sites; a consortium
admin; a platform client (an API key with scopes). Collection visibility decides the default:

| visibility   | anonymous | researcher / client | curator of its site, admin |
|--------------|-----------|---------------------|----------------------------|
| `public`     | records   | records             | records                    |
| `registered` | -         | records             | records                    |
| `aggregate`  | counts    | counts              | records                    |
| `private`    | -         | -                   | records                    |

*records*: hits and exact counts; *counts*: suppressed counts only, never a record; *-*: the
collection does not exist for the caller. A grant to a user, group or client raises what its
holder may learn from one collection (never lowers it). A client's scopes cap what it gets:
without `records:read` it gets counts at most, without `counts:read` nothing.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from catalogue.models import Visibility


class Role(enum.StrEnum):
    RESEARCHER = "researcher"
    CURATOR = "curator"  # of the sites in `Identity.sites`
    ADMIN = "admin"
    CLIENT = "client"  # a platform integrating through an API key


class ClientScope(enum.StrEnum):
    """What a platform client's key allows; a person's token is not limited by scopes."""

    RECORDS = "records:read"  # record-level hits where the collection allows them
    COUNTS = "counts:read"  # suppressed cohort counts
    AUDIT = "audit:read"  # the audit log (admins always may)


class Access(enum.StrEnum):
    """What a caller may learn from one collection, from most to least."""

    RECORDS = "records"  # hits and exact counts
    COUNTS = "counts"  # suppressed counts only, never hits
    NONE = "none"  # not even that it exists


class PrincipalKind(enum.StrEnum):
    USER = "user"
    GROUP = "group"
    CLIENT = "client"


_RANK = {Access.NONE: 0, Access.COUNTS: 1, Access.RECORDS: 2}


@dataclass(frozen=True)
class Identity:
    subject: str | None = None
    roles: frozenset[str] = field(default_factory=frozenset)
    groups: frozenset[str] = field(default_factory=frozenset)
    sites: frozenset[str] = field(default_factory=frozenset)  # slugs of the sites curated
    scopes: frozenset[str] | None = None  # a client's scopes (None: none); people: not limited
    via: str = "anonymous"  # how it was established: anonymous, token, api_key, cli

    @property
    def is_anonymous(self) -> bool:
        return self.subject is None

    @property
    def is_admin(self) -> bool:
        return Role.ADMIN in self.roles

    @property
    def is_client(self) -> bool:
        return Role.CLIENT in self.roles

    def curates(self, site_slug: str | None) -> bool:
        """Is this a curator of that site (or an admin, who curates every site)?"""
        if self.is_admin:
            return True
        return Role.CURATOR in self.roles and site_slug is not None and site_slug in self.sites

    @property
    def limited(self) -> bool:
        """Is what it may do bounded by scopes? Always for clients, never for people."""
        return self.is_client or self.scopes is not None

    def allows(self, scope: ClientScope) -> bool:
        return not self.limited or scope.value in (self.scopes or frozenset())

    def principals(self) -> list[tuple[PrincipalKind, str]]:
        """The names grants can be made to for this identity."""
        if self.subject is None:
            return []
        own = PrincipalKind.CLIENT if self.is_client else PrincipalKind.USER
        return [(own, self.subject), *((PrincipalKind.GROUP, g) for g in sorted(self.groups))]


ANONYMOUS = Identity()


def by_visibility(identity: Identity, visibility: Visibility) -> Access:
    """What `identity` may learn from a collection of that visibility, before site and grants."""
    if identity.is_admin:
        return Access.RECORDS
    if visibility is Visibility.PUBLIC:
        return Access.RECORDS
    if visibility is Visibility.REGISTERED:
        return Access.NONE if identity.is_anonymous else Access.RECORDS
    if visibility is Visibility.AGGREGATE:
        return Access.COUNTS
    return Access.NONE


def access_to(
    identity: Identity,
    visibility: Visibility,
    site_slug: str | None = None,
    granted: Access | None = None,
) -> Access:
    """What `identity` may learn from one collection: its visibility, the site's curators, the
    grants the caller holds on it (`granted`, the highest), capped by a client's scopes."""
    level = Access.RECORDS if identity.curates(site_slug) else by_visibility(identity, visibility)
    if granted is not None:
        level = highest(level, granted)
    return _capped(identity, level)


def highest(*levels: Access) -> Access:
    return max(levels, key=_RANK.__getitem__)


def _capped(identity: Identity, level: Access) -> Access:
    if identity.is_admin or not identity.limited:
        return level
    if level is Access.RECORDS and not identity.allows(ClientScope.RECORDS):
        level = Access.COUNTS
    if level is Access.COUNTS and not identity.allows(ClientScope.COUNTS):
        level = Access.NONE
    return level


def can_list(identity: Identity, visibility: Visibility, site_slug: str | None = None) -> bool:
    """May `identity` know the collection exists (title, counts)?"""
    return access_to(identity, visibility, site_slug) is not Access.NONE


def counts_exact(identity: Identity, visibility: Visibility, site_slug: str | None = None) -> bool:
    """Are counts shown exactly, or suppressed below the threshold?"""
    return access_to(identity, visibility, site_slug) is Access.RECORDS


def may_read_audit(identity: Identity) -> bool:
    return identity.is_admin or (identity.is_client and identity.allows(ClientScope.AUDIT))
