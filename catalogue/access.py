"""Who is asking, and what they may see. Services enforce it; adapters only pass the identity on.

Until sign-in exists every request is anonymous: it sees public and aggregate-only collections,
record counts of aggregate-only collections suppressed below the threshold, nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from catalogue.models import Visibility


@dataclass(frozen=True)
class Identity:
    subject: str | None = None
    roles: frozenset[str] = field(default_factory=frozenset)

    @property
    def is_anonymous(self) -> bool:
        return self.subject is None


ANONYMOUS = Identity()

_LISTED_FOR_ANONYMOUS = frozenset({Visibility.PUBLIC, Visibility.AGGREGATE})


def can_list(identity: Identity, visibility: Visibility) -> bool:
    """May `identity` know the collection exists (title, counts)?"""
    return visibility in _LISTED_FOR_ANONYMOUS or "admin" in identity.roles


def counts_exact(identity: Identity, visibility: Visibility) -> bool:
    """Are counts shown exactly, or suppressed below the threshold?"""
    return visibility != Visibility.AGGREGATE or "admin" in identity.roles
