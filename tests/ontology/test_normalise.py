"""Label normalisation: the key every label look-up uses."""

from __future__ import annotations

import string

from hypothesis import given
from hypothesis import strategies as st

from ontology.normalise import code_keys, normalise

LATIN = st.text(
    alphabet=st.sampled_from(string.ascii_letters + string.digits + "äöüéèêàçñßÄÖÜÉÈ -_/.,()'"),
    max_size=40,
)


@given(st.text(max_size=60))
def test_idempotent(text: str) -> None:
    once = normalise(text)
    assert normalise(once) == once


@given(st.text(max_size=60))
def test_single_spaces_no_edges(text: str) -> None:
    key = normalise(text)
    assert key == key.strip()
    assert "  " not in key


@given(LATIN)
def test_case_does_not_matter(text: str) -> None:
    assert normalise(text.upper()) == normalise(text.lower()) == normalise(text)


@given(LATIN, st.sampled_from([" ", "  ", "\t", "-", "_", ".", ",", "/", "()"]))
def test_punctuation_and_whitespace_around_words_do_not_matter(text: str, gap: str) -> None:
    assert normalise(gap + text + gap) == normalise(text)


@given(st.text(alphabet=st.sampled_from("aeiouc"), min_size=1, max_size=20))
def test_diacritics_do_not_matter(text: str) -> None:
    marked = text.translate(str.maketrans("aeiouc", "äéîõüç"))
    assert normalise(marked) == normalise(text)


def test_examples() -> None:
    assert normalise("Schädel") == normalise("SCHADEL") == "schadel"
    assert normalise("  T1-weighted ") == "t1 weighted"
    assert normalise("Abdomen & Pelvis") == normalise("abdomen and pelvis")
    assert normalise("Fuß") == "fuss"
    assert normalise("Cœur") == "coeur"
    assert normalise("tête") == "tete"
    # "*" and "+" carry meaning in MR names: T2* is not T2
    assert normalise("T2*") == normalise("T2star") != normalise("T2")
    assert normalise("+C") != normalise("C")


def test_code_keys() -> None:
    assert code_keys(" g35.a ") == ("G35.A", "G35A")
    assert code_keys("G350") == ("G350", "G35.0")
    assert code_keys("HEAD") == ("HEAD",)
