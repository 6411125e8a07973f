"""A first-match index over an ordered list of word patterns, without one regex search per rule.

Rules are written as readable regex alternations over normalised text (lower-case alphanumeric
tokens separated by single spaces). Most alternatives are plain words or word prefixes
("flair", "swi\\w*", "dark ?fluid"); those go into a dictionary of words and n-grams and one
prefix pattern, and only the few regex-shaped alternatives stay regexes, run only while they
could still beat the best hit. The answer equals searching ``\\b(?:pattern)\\b`` rule by rule
(tests/ontology/test_classify.py holds them equal), at a fraction of the cost.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

_LITERAL = re.compile(r"[a-z0-9]+(?:(?: \?| )[a-z0-9]+)*(?:\\w\*)?")
_SEPARATOR = re.compile(r"( \?| )")


class RuleIndex:
    """Index of rule patterns; `first(text)` is the position of the first rule that matches.

    Plain alternatives are filed by their first two characters (a one-character word would
    never be found, so it is refused), each bucket sorted by rule position.
    """

    def __init__(self, patterns: Sequence[str]) -> None:
        buckets: dict[str, list[tuple[int, str, bool]]] = {}
        self._residual: list[tuple[int, re.Pattern[str]]] = []
        self._longest = 1
        for index, pattern in enumerate(patterns):
            rest: list[str] = []
            for alternative in _top_level_alternatives(pattern):
                if not _LITERAL.fullmatch(alternative):
                    rest.append(alternative)
                    continue
                is_prefix = alternative.endswith(r"\w*")
                for spelling in _spellings(alternative.removesuffix(r"\w*")):
                    if len(spelling) < 2:
                        raise ValueError(f"rule {index}: one-character word {spelling!r}")
                    self._longest = max(self._longest, spelling.count(" ") + 1)
                    buckets.setdefault(spelling[:2], []).append((index, spelling, is_prefix))
            if rest:
                self._residual.append((index, re.compile(rf"\b(?:{'|'.join(rest)})\b")))
        self._buckets = {head: tuple(sorted(found)) for head, found in buckets.items()}

    def first(self, normalised: str) -> int | None:
        """The lowest rule position matching `normalised` (see `_classify_text.normalise`)."""
        best: int | None = None
        for gram in _grams(normalised, self._longest):
            for index, literal, is_prefix in self._buckets.get(gram[:2], ()):
                if best is not None and index >= best:
                    break
                if gram == literal or (
                    is_prefix and gram.startswith(literal) and " " not in gram[len(literal) :]
                ):
                    best = index
                    break
        for index, pattern in self._residual:
            if best is not None and index >= best:
                break
            if pattern.search(normalised):
                return index
        return best


def _grams(normalised: str, longest: int) -> Iterator[str]:
    """Tokens and runs of up to `longest` tokens, never across the " | " between spellings."""
    for half in normalised.split("|"):
        tokens = half.split()
        yield from tokens
        for size in range(2, longest + 1):
            for start in range(len(tokens) - size + 1):
                yield " ".join(tokens[start : start + size])


def _spellings(literal: str) -> list[str]:
    """Every spelling of "dark ?fluid": "dark fluid" and "darkfluid"."""
    parts = _SEPARATOR.split(literal)
    spellings = [parts[0]]
    for separator, word in zip(parts[1::2], parts[2::2], strict=True):
        joiners = (" ", "") if separator == " ?" else (" ",)
        spellings = [head + joiner + word for head in spellings for joiner in joiners]
    return spellings


def _top_level_alternatives(pattern: str) -> Iterator[str]:
    depth, start = 0, 0
    for position, char in enumerate(pattern):
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "|" and depth == 0:
            yield pattern[start:position]
            start = position + 1
    yield pattern[start:]
