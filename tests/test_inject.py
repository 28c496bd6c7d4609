"""Injected transcriber errors: exact spans, exact inverse, every class as documented."""

from __future__ import annotations

import itertools
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rapidfuzz.distance import DamerauLevenshtein, Levenshtein

from ocr_fix.inject import CLASSES, inject, real_word_partners, restore

#: A small stand-in vocabulary (word -> frequency): the tests must not depend on wordfreq.
VOCAB = {
    w: 1.0 / (i + 1)
    for i, w in enumerate(
        [
            "the",
            "of",
            "and",
            "to",
            "in",
            "is",
            "it",
            "on",
            "no",
            "or",
            "as",
            "at",
            "be",
            "he",
            "we",
            "from",
            "form",
            "for",
            "was",
            "has",
            "had",
            "his",
            "this",
            "that",
            "with",
            "will",
            "which",
            "were",
            "went",
            "into",
            "onto",
            "not",
            "now",
            "new",
            "one",
            "our",
            "out",
            "said",
            "paid",
            "day",
            "may",
            "way",
            "letter",
            "better",
            "state",
            "states",
            "they",
            "then",
            "them",
            "there",
            "these",
            "where",
            "here",
            "three",
        ]
    )
}

TEXT = """The Honorable Secretary of State sent a letter from London on 4 May 1939.
In his reply the Minister said that Washington would consider the matter at once,
and the committee of the Legation met on 12 June to discuss it with Colonel Beck.
It was agreed that the despatch No. 1535 would go to the Department in the pouch;
the Consul thought that the Government in Budapest had not been told of it.
Mr. Howard, who was then in Geneva, wrote to the Minister in a later letter.
He said that the situation was grave: some refugees had no papers at all.
The Committee had asked for more time, and the Minister was inclined to agree."""

WORD = st.one_of(
    st.sampled_from(sorted(VOCAB)),
    st.sampled_from(["London", "Minister", "Washington", "Budapest", "committee", "Legation"]),
    st.from_regex(r"[A-Z]?[a-z]{2,9}", fullmatch=True),
    st.from_regex(r"[0-9]{1,4}", fullmatch=True),
)
TOKEN = st.tuples(WORD, st.sampled_from(["", "", "", ",", ".", ";", ":"])).map("".join)
LINE = st.lists(TOKEN, min_size=0, max_size=12).map(" ".join)
TEXTS = st.lists(LINE, min_size=1, max_size=14).map("\n".join)


def _at(text: str, e: dict) -> int:
    lines = text.split("\n")
    return sum(len(x) + 1 for x in lines[: e["line"] - 1]) + e["column"] - 1


def _check_catalogue(original: str, altered: str, catalogue: list[dict]) -> None:
    assert restore(altered, catalogue) == original
    assert altered.count("\n") == original.count("\n")  # line numbers never move
    spans = []
    for e in catalogue:
        at = _at(altered, e)
        assert altered[at : at + len(e["wrong"])] == e["wrong"]  # spans are exact
        assert e["wrong"] != e["right"]
        assert e["class"] in CLASSES
        assert e["kind"] == ("omission" if e["class"] in ("dropped-word", "dropped-clause") else e["class"])
        spans.append((at, at + len(e["wrong"])))
    spans.sort()
    for (_, end), (start, _) in itertools.pairwise(spans):
        # Never touching: at least one whole untouched word between two errors.
        assert re.search(r"\s\S+\s", altered[end:start]), (altered[end - 5 : start + 5], catalogue)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=TEXTS, seed=st.integers(0, 2**32 - 1), per_class=st.integers(0, 3))
@pytest.mark.slow
def test_catalogue_restores_the_original_and_spans_are_exact(text, seed, per_class):
    result = inject(text, seed, per_class=per_class, vocab=VOCAB)
    _check_catalogue(text, result.text, result.catalogue())
    assert (result.text == text) == (not result.errors)
    assert inject(text, seed, per_class=per_class, vocab=VOCAB) == result  # seeded, pure


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), lines=st.sets(st.integers(1, 8), max_size=8))
def test_only_eligible_lines_change(seed, lines):
    result = inject(TEXT, seed, per_class=2, vocab=VOCAB, eligible=lines)
    before, after = TEXT.split("\n"), result.text.split("\n")
    changed = {n + 1 for n, (a, b) in enumerate(zip(before, after, strict=True)) if a != b}
    assert changed <= lines
    _check_catalogue(TEXT, result.text, result.catalogue())


def test_every_class_has_its_documented_shape():
    pages = [1] * 4 + [2] * 4
    seen: dict[str, int] = {}
    for seed in range(12):
        result = inject(TEXT, seed, per_class=1, vocab=VOCAB, pages=pages)
        _check_catalogue(TEXT, result.text, result.catalogue())
        for e in result.catalogue():
            seen[e["class"]] = seen.get(e["class"], 0) + 1
            wrong, right, klass = e["wrong"], e["right"], e["class"]
            assert e["page"] == pages[e["line"] - 1]
            assert e["context"] and "\n" not in e["context"]
            if klass == "name":
                assert right[0].isupper() and wrong[0] == right[0] and wrong.lower() not in VOCAB
                assert 1 <= Levenshtein.distance(wrong, right) <= 2 or DamerauLevenshtein.distance(
                    wrong, right
                ) in (1, 2)
            elif klass == "digit-letter":
                diff = [(a, b) for a, b in zip(wrong, right, strict=True) if a != b]
                assert len(diff) == 1 and diff[0][0].isdigit() and diff[0][1].isalpha()
                assert wrong[0] == right[0] and wrong[-1] == right[-1]  # inside the word
            elif klass == "real-word":
                assert wrong in VOCAB and right in VOCAB
                assert DamerauLevenshtein.distance(wrong, right) == 1
            elif klass == "number":
                diff = [(a, b) for a, b in zip(wrong, right, strict=True) if a != b]
                assert len(diff) == 1 and diff[0][0].isdigit() and diff[0][1].isdigit()
            elif klass == "doubled-word":
                assert wrong == f"{right} {right}"
            elif klass == "dropped-word":
                assert wrong in (" ", "\n") and len(right.split()) == 1
            elif klass == "dropped-clause":
                assert wrong in (" ", "\n") and 5 <= len(right.split()) <= 12
                assert right.count("\n") <= 1
            elif klass == "line-order":
                a, b = right.split("\n")
                assert wrong == f"{b}\n{a}" and e["column"] == 1
            elif klass == "punctuation":
                assert re.sub(r"[^\w]", "", wrong) == re.sub(r"[^\w]", "", right)
    assert set(seen) == set(CLASSES)
    # A clause dropped across a line break keeps the break: some seed shows it.
    clauses = [
        e
        for seed in range(30)
        for e in inject(TEXT, seed, per_class={"dropped-clause": 1}, vocab=VOCAB).catalogue()
    ]
    assert any(e["wrong"] == "\n" for e in clauses) and any(e["wrong"] == " " for e in clauses)


def test_without_a_vocabulary_there_are_no_real_word_slips():
    result = inject(TEXT, 3, per_class={"real-word": 3, "name": 2}, vocab={})
    assert [e.klass for e in result.errors] == ["name", "name"]


def test_real_word_partners_are_one_edit_or_one_transposition():
    assert real_word_partners("from", VOCAB) == ["form"]
    assert set(real_word_partners("on", VOCAB)) >= {"no", "in", "of", "or", "one"}
    assert "in" not in real_word_partners("in", VOCAB)


def test_unknown_class_and_restore_of_a_wrong_catalogue_fail_loudly():
    with pytest.raises(ValueError, match="unknown error class"):
        inject(TEXT, 1, classes=["typo"])
    with pytest.raises(ValueError, match="is not there"):
        restore(TEXT, [{"line": 1, "column": 1, "wrong": "Xyz", "right": "The"}])


def test_a_dropped_closing_bracket_is_a_punctuation_slip():
    text = "The summary (PSIS 400-22, 21 July), mention was made of the proposal to the Russians.\n"
    wrongs = {
        e["wrong"]
        for seed in range(40)
        for e in inject(text, seed, per_class={"punctuation": 1}, vocab=VOCAB).catalogue()
    }
    assert "July," in wrongs
