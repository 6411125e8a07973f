"""Normalised forms of labels and codes, the keys of every look-up.

Case, diacritics, punctuation and whitespace do not distinguish labels ("Schädel" = "schadel",
"T1-weighted" = "t1 weighted"); ``*`` and ``+`` do ("T2*" is not "T2"), so they become words.
"""

from __future__ import annotations

import re
import unicodedata

_ASCII_SYMBOLS = str.maketrans({"*": "star", "+": " plus ", "&": " and "})
# Letters NFKD does not decompose into a base letter plus marks.
_LETTERS = str.maketrans(
    {"œ": "oe", "æ": "ae", "ø": "o", "ł": "l", "đ": "d", "\u0131": "i", "ð": "d"}
)
_ASCII_WORDS = re.compile(r"[a-z0-9]+")
_GAPS = re.compile(r"[\W_]+")
_ICD_LIKE = re.compile(r"[A-Z][0-9][0-9A-Z]{2,5}")


def normalise(text: str) -> str:
    """The comparison key of a label: lower case, no diacritics, words separated by one space."""
    if text.isascii():  # the common case, about 3 µs for an ICD title
        text = text.lower()
        if "*" in text or "+" in text or "&" in text:
            text = text.translate(_ASCII_SYMBOLS)
        return " ".join(_ASCII_WORDS.findall(text))
    current = text
    for _ in range(4):  # casefold and NFKD can each undo the other's work; stop at a fixpoint
        step = _unicode_step(current)
        if step == current:
            break
        current = step
    return current


def _unicode_step(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text.casefold()).translate(_LETTERS)
    bare = "".join(c for c in folded if not unicodedata.combining(c))
    return _GAPS.sub(" ", bare.translate(_ASCII_SYMBOLS)).strip()


def code_keys(value: str) -> tuple[str, ...]:
    """Keys a code is looked up by: upper case, and for ICD-like codes with or without the dot."""
    code = value.strip().upper()
    if "." in code:
        return (code, code.replace(".", ""))
    if _ICD_LIKE.fullmatch(code):
        return (code, f"{code[:3]}.{code[3:]}")
    return (code,)
