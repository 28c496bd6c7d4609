"""The per-reading evidence functions, one question each."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ocr_fix.evidence import Evidence, homoglyphs_only, restores_balance
from ocr_fix.lexicon import Lexicon, Pattern, Term

LEX = Lexicon.build(
    [Term("Konoye"), Term("Lozovsky")], [Pattern(re.compile(r"H-\d{6}")), Pattern(re.compile(r"#\d{4}"))]
)
EV = Evidence(LEX)


@pytest.mark.parametrize(
    "t,o,expected",
    [
        ("18", "i8", True),
        ("5On", "50n", True),
        ("I", "1", True),
        ("8", "3", False),
        ("E-197715", "H-197715", False),
        ("947000", "947022", False),
    ],
)
def test_homoglyphs_only(t, o, expected):
    assert homoglyphs_only(t, o) is expected


@pytest.mark.parametrize(
    "line,wrong,right,expected",
    [
        ("(PSIS 400-22, 21 July, mention", "July", "July)", True),
        ("(PSIS 400-22, 21 July), mention", "July", "July)", False),
        ("the eighteenth, the", "eighteenth", "eighteenth;", False),
    ],
)
def test_restores_balance(line, wrong, right, expected):
    assert restores_balance(line, wrong, right) is expected


def test_pattern_fix_keeps_the_transcripts_digits():
    # The scan's letter makes it match the pattern; its misread digit is not taken.
    assert EV.pattern_fix("(R-173306", "(H-173396") == "(H-173306"
    assert EV.pattern_fix("91214,", "#1214,") == "#1214,"


def test_lexicon_form_maps_a_misread_term_and_nothing_else():
    assert EV.lexicon_form("Konoyc's,", "Kenoye's,") == "Konoye's,"
    assert EV.lexicon_form("nad", "had") == "nad"  # too short to guess from
    assert EV.lexicon_form("Konoye", "x") == "Konoye"


def test_plausible_and_lexicon():
    assert EV.plausible("the envoy") and EV.plausible("H-197715,") and EV.plausible("o")
    assert not EV.plausible("Kenoye")
    assert EV.in_lexicon("Konoye's") and not EV.in_lexicon("envoy")


def test_context_prefers_the_common_phrase():
    assert EV.context_score(("enemy", "order"), "in") > EV.context_score(("enemy", "order"), "is")
    assert EV.rarity("terms", "terns") > 2


def test_a_bracket_opened_lines_before_is_paired_within_its_paragraph():
    from ocr_fix.transcript import Transcript
    from ocr_fix.triage import _bracket_window

    text = "Intro.\n\nThe summary (PSIS\n400-22, 21\nJuly, mention) of it\nnext line\n\n(other\n"
    t = Transcript(Path("t.txt"), text)
    at = text.index("July")
    window = _bracket_window(t, at)
    # The paragraph's lines, not the blank line's neighbours beyond it.
    assert "(PSIS" in window and "Intro." not in window and "(other" not in window
    assert restores_balance(window, "July", "July)") is False  # the paragraph closes it
    t2 = Transcript(Path("t.txt"), "The summary (PSIS\n400-22, 21\nJuly, mention of it\n")
    window2 = _bracket_window(t2, t2.text.index("July"))
    assert restores_balance(window2, "July", "July)") is True
    assert restores_balance(t2.line_text(3), "July", "July)") is False  # the line alone misses it


@settings(max_examples=150, deadline=None)
@given(
    lines=st.lists(st.sampled_from(["", "a (b", "c) d", "e f", "(g)", "  "]), min_size=1, max_size=14),
    data=st.data(),
)
def test_the_bracket_window_is_the_lines_paragraph_around_it(lines, data):
    from ocr_fix.transcript import Transcript
    from ocr_fix.triage import BRACKET_LINES, _bracket_window

    text = "\n".join(lines) + "\n"
    t = Transcript(Path("t.txt"), text)
    k = data.draw(st.integers(0, len(lines) - 1))
    offset = sum(len(x) + 1 for x in lines[:k])
    window = _bracket_window(t, offset).split("\n")
    assert window[0] == lines[k]  # the word's own line, blank or not
    assert len(window) <= 2 * BRACKET_LINES + 1
    # Every other line is a non-blank neighbour reached without crossing a blank line.
    lo = k
    while lo - 1 >= 0 and k - (lo - 1) <= BRACKET_LINES and lines[lo - 1].strip():
        lo -= 1
    hi = k
    while hi + 1 < len(lines) and (hi + 1) - k <= BRACKET_LINES and lines[hi + 1].strip():
        hi += 1
    assert sorted(window) == sorted(lines[lo : hi + 1])
