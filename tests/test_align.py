"""Alignment: page anchoring, order, coverage, and the round-trip property."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from ocr_fix.align import _one_gap, _Op, align, page_tokens
from ocr_fix.normalize.markdown import Folded
from ocr_fix.normalize.tokens import tokenize
from tests.fakes import page_from_text

WORDS = st.sampled_from(
    [
        "the",
        "of",
        "and",
        "to",
        "in",
        "a",
        "war",
        "Japan",
        "Soviet",
        "envoy",
        "Konoye",
        "Togo",
        "July",
        "1945",
        "mission",
        "reply",
    ]
)


def _tokens(text: str):
    return tokenize(Folded.identity(text))


def _pages(words: list[str], per_page: int, per_line: int = 8):
    pages = []
    for n, i in enumerate(range(0, len(words), per_page), start=1):
        chunk = words[i : i + per_page]
        lines = [" ".join(chunk[j : j + per_line]) for j in range(0, len(chunk), per_line)]
        pages.append(page_from_text("\n".join(lines), n))
    return pages


@settings(max_examples=60, deadline=None)
@given(
    st.lists(WORDS, min_size=30, max_size=200), st.lists(WORDS, min_size=0, max_size=200), st.integers(20, 80)
)
def test_dropping_the_gaps_gives_back_each_side(t_words, o_words, per_page):
    """Concatenating each side of every pair, in order, reproduces that side exactly."""
    tokens = _tokens(" ".join(t_words))
    pages = _pages(o_words or t_words, per_page)
    alignment = align(tokens, pages)
    for pa in alignment.pages:
        t_seen, o_seen = [], []
        for pair in pa.pairs:
            t_seen.extend(range(*pair.t))
            o_seen.extend(range(*pair.o))
        assert t_seen == list(range(*pa.t_range))
        assert o_seen == list(range(len(pa.tokens)))
    covered = sorted([pa.t_range for pa in alignment.pages] + list(alignment.uncovered))
    pos = 0
    for lo, hi in covered:
        assert lo == pos
        pos = hi
    assert pos == len(tokens)


GOLDEN = Path(__file__).resolve().parent.parent / "golden" / "psis-400-23"


def _golden_pages(order):
    return [page_from_text((GOLDEN / f"{i:02d}.gt.txt").read_text(), n) for n, i in enumerate(order, 1)]


def _golden_tokens():
    from ocr_fix.normalize.typography import normalize_transcript
    from ocr_fix.transcript import read_transcript

    return tokenize(normalize_transcript(read_transcript(GOLDEN / "golden.md")))


def test_pages_out_of_order_are_found_in_transcript_order():
    alignment = align(_golden_tokens(), _golden_pages([3, 1, 2, 4]))
    assert [pa.page.number for pa in alignment.pages] == [2, 3, 1, 4]  # scan positions, transcript order
    assert alignment.agreement > 0.95


def test_missing_page_leaves_an_uncovered_range():
    tokens = _golden_tokens()
    alignment = align(tokens, _golden_pages([1, 2, 4]))
    big = [(lo, hi) for lo, hi in alignment.uncovered if hi - lo > 100]
    assert len(big) >= 1  # page 3 and pages 5..20 have no scan
    page3_word = next(i for i, t in enumerate(tokens) if t.text == "obedience")
    assert any(lo <= page3_word < hi for lo, hi in big)


def test_line_end_hyphenation_is_rejoined():
    page = page_from_text("the nego-\ntiations went on\nthe pro-\nAxis camp")
    toks = [t.text for t in page_tokens(page, frozenset({"proaxis", "pro-axis"}))]
    assert "negotiations" in toks
    assert "pro-Axis" in toks or "proAxis" in toks


def test_typed_rules_are_not_words():
    page = page_from_text("text here\n____________________\nmore")
    assert [t.text for t in page_tokens(page)] == ["text", "here", "more"]


def _op(tag: str, a: int, b: int, c: int, d: int) -> Any:
    return _Op(tag, a, b, c, d)


def test_a_gap_split_around_a_common_word_becomes_one_gap():
    t = "date of the the prospective voter".split()
    o = "date of the promulgation of the Aot proof of birth Hungary the prospective voter".split()
    split = [
        _op("equal", 0, 3, 0, 3),
        _op("insert", 3, 3, 3, 5),  # promulgation of
        _op("equal", 3, 4, 5, 6),  # the transcript's second "the" matched inside the clause
        _op("insert", 4, 4, 6, 12),  # Aot ... Hungary the
        _op("equal", 4, 6, 12, 14),
    ]
    assert _one_gap(split, t, o) == [
        _op("equal", 0, 3, 0, 3),
        _op("insert", 3, 3, 3, 11),  # one omission: promulgation ... Hungary
        _op("equal", 3, 4, 11, 12),
        _op("equal", 4, 6, 12, 14),
    ]


@given(
    st.lists(st.sampled_from("abc"), max_size=12),
    st.lists(st.sampled_from("abcd"), max_size=16),
)
def test_one_gap_keeps_a_valid_alignment(t, o):
    from rapidfuzz.distance import Levenshtein

    ops = _one_gap(list(Levenshtein.opcodes(t, o)), t, o)
    src = dest = 0
    for op in ops:
        assert (op.src_start, op.dest_start) == (src, dest)
        if op.tag == "equal":
            assert t[op.src_start : op.src_end] == o[op.dest_start : op.dest_end]
        src, dest = op.src_end, op.dest_end
    assert (src, dest) == (len(t), len(o))
