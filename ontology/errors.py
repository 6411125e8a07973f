"""The one error the ontology package raises for bad input: it names the file and the line."""

from __future__ import annotations

from pathlib import Path


class OntologyError(ValueError):
    """A vocabulary, ontology, rules file or mapping table that cannot be used.

    The catalogue maps it to its ``ConfigurationError``; ``path`` and ``line`` (1-based, ``None``
    when the format does not say) point the operator at the place to fix.
    """

    def __init__(self, path: Path | str, line: int | None, reason: str) -> None:
        self.path = Path(path)
        self.line = line
        self.reason = reason
        where = f"{self.path}:{line}" if line is not None else str(self.path)
        super().__init__(f"{where}: {reason}")
