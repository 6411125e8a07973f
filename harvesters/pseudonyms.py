"""Keyed pseudonyms: one HMAC for every harvester, so one patient gets one pseudonym from every
source of a site (a DICOM PatientID and an XNAT subject label that agree line up).

HMAC-SHA256(secret, kind NUL value), first 32 hex digits: stable across runs and processes,
different under another secret. `kind` separates domains ("subject", "study", ...).
"""

from __future__ import annotations

import hashlib
import hmac

from catalogue.errors import ConfigurationError, FatalHarvestError
from harvesters.base import HarvestContext

MIN_SECRET_BYTES = 16
PSEUDONYM_CHARS = 32  # hex, 128 bits: no collisions at any catalogue's scale


class Pseudonymiser:
    def __init__(self, secret: bytes) -> None:
        if len(secret) < MIN_SECRET_BYTES:
            raise ConfigurationError(f"the pseudonym secret needs {MIN_SECRET_BYTES}+ bytes")
        self._mac = hmac.new(secret, digestmod=hashlib.sha256)

    def pseudonym(self, kind: str, value: str) -> str:
        """The keyed pseudonym of `value` in the domain `kind`."""
        return self.digest(kind, value).hex()[:PSEUDONYM_CHARS]

    def digest(self, kind: str, value: str) -> bytes:
        mac = self._mac.copy()
        mac.update(kind.encode("ascii") + b"\0" + value.encode("utf-8", "surrogatepass"))
        return mac.digest()


def from_context(context: HarvestContext, what: str) -> Pseudonymiser:
    """The site's pseudonymiser; without a usable secret nothing is harvested (`what` says what
    would have been pseudonymised)."""
    secret = context.pseudonym_secret
    if secret is None or not secret.get_secret_value():
        raise FatalHarvestError(
            f"source {context.source!r}: no pseudonym secret is configured for site "
            f"{context.site!r}; {what} are never harvested without one"
        )
    try:
        return Pseudonymiser(secret.get_secret_value().encode("utf-8"))
    except ConfigurationError as exc:
        raise FatalHarvestError(f"source {context.source!r}: {exc.message}") from None
