"""Triage's rule verdicts (the ``triage_rank`` feature the evidence model weighs), one at
a time, on small transcripts against fake OCR pages; severities here are the rules'
(``use_model=False``). Line order and untranscribed text are structural: the same with
or without the model."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ocr_fix.lexicon import Lexicon, Pattern, Term
from ocr_fix.model import Kind, Severity
from ocr_fix.pipeline import CheckOptions, check_pages
from ocr_fix.transcript import Transcript
from ocr_fix.triage import _split_marks
from tests.fakes import page_from_text

BODY = (
    "On the evening of the eighteenth the ambassador at the capital received a long "
    "communication from the vice commissar reading in part as follows and the mission "
    "of the special envoy was in no way made clear so it was impossible for the "
    "government to give a definite reply to the proposal that had been made earlier"
)
RULES = CheckOptions(use_model=False)
LEX = Lexicon.build(
    [Term("Konoye", "name"), Term("Lozovsky", "name"), Term("Togo", "name")],
    [Pattern(re.compile(r"H-\d{6}"))],
)


def _transcript(text: str) -> Transcript:
    return Transcript(path=Path("t.txt"), text=text, kind="text")


def _wrap(text: str, width: int = 60) -> str:
    lines, cur = [], ""
    for w in text.split():
        if cur and len(cur) + 1 + len(w) > width:
            lines.append(cur)
            cur = w
        else:
            cur = f"{cur} {w}".strip()
    return "\n".join([*lines, cur])


def _check(transcript_text: str, page_text: str, conf=95.0, lexicon: Lexicon = LEX):
    page = page_from_text(_wrap(page_text), 1, conf=conf)
    return check_pages(_transcript(transcript_text), [page], lexicon, RULES)


def _only(result, severities=(Severity.ERROR, Severity.WARNING)):
    return [f for f in result.findings if f.severity in severities]


def test_identical_text_has_no_findings():
    r = _check(BODY, BODY)
    assert r.findings == ()
    assert r.pages[0].cer == 0.0


def test_misspelt_lexicon_term_is_an_error_with_its_position():
    t = BODY.replace("special envoy", "special envoy Kenoye")
    p = BODY.replace("special envoy", "special envoy Konoye")
    (f,) = _only(_check(t, p))
    assert (f.severity, f.kind, f.suggestion) == (Severity.ERROR, Kind.SUBSTITUTION, "Konoye")
    assert t[f.transcript.start : f.transcript.end] == "Kenoye"
    assert f.transcript.line == 1 and f.transcript.column == t.index("Kenoye") + 1
    assert f.scan.page == 1 and f.scan.text == "Konoye" and f.scan.line >= 1 and f.scan.bbox is not None


def test_two_real_names_disagreeing_is_a_warning():
    t = BODY.replace("the ambassador", "Tojo the ambassador")
    p = BODY.replace("the ambassador", "Togo the ambassador")
    (f,) = _only(_check(t, p))
    assert f.severity is Severity.WARNING and f.suggestion == "Togo"


def test_two_dictionary_words_disagreeing_is_a_warning():
    t = BODY.replace("in no way", "is no way")
    (f,) = _only(_check(t, BODY))
    assert f.severity is Severity.WARNING and f.suggestion == "in" and f.transcript.text == "is"


def test_ocr_nonword_against_a_real_word_is_noise():
    p = BODY.replace("communication", "cornmunication")
    r = _check(BODY, p)
    assert _only(r) == []
    (f,) = r.findings
    assert f.severity is Severity.INFO


def test_low_confidence_reading_is_info_even_when_plausible():
    t = BODY.replace("in no way", "is no way")
    r = _check(t, BODY, conf={"in": 30.0})
    assert _only(r) == [] and r.findings[0].severity is Severity.INFO


def test_identifier_matching_the_lexicon_pattern_beats_the_transcript():
    t = BODY + " E-197715 refers"
    p = BODY + " H-197715 refers"
    (f,) = _only(_check(t, p))
    assert f.severity is Severity.ERROR and f.transcript.text == "E" and f.suggestion == "H"


def test_identifier_digit_difference_without_pattern_is_a_warning():
    t = BODY + " serial 947000 refers"
    p = BODY + " serial 947022 refers"
    (f,) = _only(_check(t, p, lexicon=Lexicon()))
    assert f.severity is Severity.WARNING


def test_case_only_difference_is_info():
    r = _check(BODY.replace("government", "Government"), BODY)
    assert [f.severity for f in r.findings] == [Severity.INFO]


def test_punctuation_that_closes_an_open_bracket_is_a_warning():
    t = BODY.replace("of the eighteenth the", "of (the eighteenth, the")
    p = BODY.replace("of the eighteenth the", "of (the eighteenth), the")
    (f,) = _only(_check(t, p))
    assert (
        f.severity is Severity.WARNING and f.transcript.text == "eighteenth" and f.suggestion == "eighteenth)"
    )


def test_other_punctuation_differences_are_ocr_noise():
    t = BODY.replace("the eighteenth the", "the eighteenth, the")
    p = BODY.replace("the eighteenth the", "the eighteenth; the")
    r = _check(t, p)
    assert _only(r) == [] and [f.severity for f in r.findings] == [Severity.INFO]


def test_a_mark_the_typist_spaced_off_is_no_difference():
    # ``eighteenth :`` on the scan (a typewriter and French convention), ``eighteenth:``
    # in the transcript: the same text, spaced otherwise.
    t = BODY.replace("the eighteenth the", "the eighteenth: the")
    p = BODY.replace("the eighteenth the", "the eighteenth : the")
    assert _check(t, p).findings == ()


@pytest.mark.parametrize(
    ("transcript_words", "scan_words"),
    [
        ("the ambassador at", "the amba ssador at"),  # a proportional face's letter gap
        ("the ambassador at", "the ambassadorat"),  # words the OCR ran together
        ("the ambas-\nsador at", "the ambassador at"),  # the transcript keeps a line-end hyphen
    ],
)
def test_the_same_words_spaced_otherwise_are_no_difference(transcript_words, scan_words):
    t = BODY.replace("the ambassador at", transcript_words)
    p = BODY.replace("the ambassador at", scan_words)
    assert _check(t, p).findings == ()


def test_words_the_transcript_runs_together_are_a_difference():
    t = BODY.replace("the ambassador at", "the ambassadorat")
    p = BODY.replace("the ambassador at", "the ambassador at")
    (f,) = _check(t, p).findings
    assert f.kind is Kind.SUBSTITUTION and f.suggestion.split() == ["ambassador", "at"]


def test_a_word_the_ocr_split_is_compared_whole_for_its_marks():
    p = BODY.replace("the ambassador at", "the amba ssador, at")
    (f,) = _check(BODY, p).findings
    assert f.kind is Kind.SUBSTITUTION and f.suggestion == "ambassador,"
    assert f.feature("punct_only") == 1.0


@pytest.mark.parametrize(
    ("transcript_word", "scan_word", "reading"),
    [
        ("ambassador.", "ambassadcr,", "ambassador,"),  # a stop for the scan's comma
        ("ambassador", "arnbassador,", "ambassador,"),  # a comma the transcript lacks
        ("ambassador;", "ambassadcr", "ambassador"),
    ],
)
def test_the_marks_of_a_word_the_ocr_misread_are_judged_apart(transcript_word, scan_word, reading):
    t = BODY.replace("the ambassador at", f"the {transcript_word} at")
    p = BODY.replace("the ambassador at", f"the {scan_word} at")
    (f,) = _check(t, p).findings
    assert f.suggestion == reading and f.scan.text == scan_word  # the OCR's reading is kept
    assert f.feature("letters_misread") == 1.0 and f.feature("punct_only") == 1.0


@pytest.mark.parametrize(
    ("transcript_word", "scan_word"),
    [
        ("ambassador,", "ambassadcr,"),  # the same marks: the letters are the only question
        ("ambassador.", "embassy,"),  # not alike enough to be one word misread
        ("ambasador.", "ambassador,"),  # the transcript's letters are no word
    ],
)
def test_marks_are_judged_apart_only_for_a_misread_word_with_other_marks(transcript_word, scan_word):
    t = BODY.replace("the ambassador at", f"the {transcript_word} at")
    p = BODY.replace("the ambassador at", f"the {scan_word} at")
    assert all(not f.feature("letters_misread") for f in _check(t, p).findings)


@given(st.text(alphabet=st.sampled_from("aZ9é.,;:()\"'-"), max_size=12))
def test_a_word_splits_into_its_marks_and_the_letters_between(word):
    lead, core, trail = _split_marks(word)
    assert lead + core + trail == word
    assert not any(c.isalnum() for c in lead + trail)
    assert core == "" or (core[0].isalnum() and core[-1].isalnum())


def test_a_rare_word_the_context_rejects_is_ocr_noise():
    t = BODY.replace("the mission", "of our mission")
    p = BODY.replace("the mission", "of cur mission")
    r = _check(t, p)
    assert _only(r) == [] and r.findings[0].feature("context_llr") < -1


def test_a_real_word_the_context_prefers_is_a_warning():
    t = BODY.replace("reading in part", "reading is order")
    p = BODY.replace("reading in part", "reading in order")
    (f,) = _only(_check(t, p))
    assert f.severity is Severity.WARNING and f.suggestion == "in"


def test_dropped_words_are_one_omission_per_run():
    t = BODY.replace("reading in part as follows", "reading as follows")
    (f,) = _only(_check(t, BODY))
    assert f.kind is Kind.OMISSION and f.suggestion == "in part" and f.transcript.text == ""
    assert f.transcript.start == t.index("as follows")


def test_an_omission_says_where_it_sits_among_the_scan_lines():
    lines = _wrap(BODY).split("\n")
    dropped = "\n".join(lines[:1] + lines[2:])  # the second scan line, whole
    (f,) = [x for x in _check(dropped, BODY).findings if x.kind is Kind.OMISSION]
    assert f.suggestion == lines[1]
    assert f.feature("whole_lines") == 1 and f.feature("in_block") == 1
    (g,) = _only(_check(BODY.replace("reading in part as follows", "reading as follows"), BODY))
    assert g.feature("whole_lines") == 0 and g.feature("in_block") == 1


def test_repeated_word_in_the_transcript_is_an_error():
    t = BODY.replace("the vice commissar", "the vice vice commissar")
    (f,) = _only(_check(t, BODY))
    assert f.kind is Kind.INSERTION and f.severity is Severity.ERROR and f.suggestion == ""
    fixed = t[: f.transcript.start] + t[f.transcript.end :]
    assert fixed == BODY


def test_scans_of_another_document_give_one_mismatch_finding():
    other = " ".join(["harvest rice fields dry season scheme ashes weak point enemy landing"] * 8)
    r = _check(BODY, other)
    (f,) = r.findings
    assert f.kind is Kind.MISMATCH and f.severity is Severity.ERROR
    assert "do not match" in f.message


@pytest.mark.parametrize("conf", [95.0])
def test_a_page_with_no_transcript_text_is_reported_once(conf):
    extra = page_from_text(
        _wrap(" ".join(["harvest rice fields dry season scheme ashes weak"] * 4)), 2, conf=conf
    )
    r = check_pages(_transcript(BODY), [page_from_text(_wrap(BODY), 1), extra], LEX, RULES)
    kinds = [f.kind for f in r.findings]
    assert kinds == [Kind.UNTRANSCRIBED]


def test_lexicon_only_mode_flags_variants_and_nonwords():
    text = "Lozovsky met Lozovsky and then Loxovsky, while Togo and Tojo spoke of Kenoye."
    r = check_pages(_transcript(text), [], LEX)
    got = {f.transcript.text: (f.severity, f.suggestion) for f in r.findings}
    assert got["Loxovsky"] == (Severity.ERROR, "Lozovsky")
    assert got["Kenoye"] == (Severity.ERROR, "Konoye")
    assert got["Tojo"] == (Severity.WARNING, "Togo")
    assert "Lozovsky" not in got and "Togo" not in got


def test_lexicon_only_mode_suggests_identifier_letters_from_its_peers():
    text = "See H-197581 and H-197582 and E-197715 today."
    r = check_pages(_transcript(text), [], LEX)
    (f,) = r.findings
    assert f.transcript.text == "E-197715" and f.suggestion == "H-197715"


def test_a_repeated_word_where_the_scan_has_another_is_an_error():
    t = BODY.replace("the vice commissar", "the vice vice commissar")
    p = BODY.replace("the vice commissar", "the first vice commissar")
    (f,) = _only(_check(t, p))
    assert f.severity is Severity.ERROR and f.kind is Kind.SUBSTITUTION and f.suggestion == "first"


def test_dictionary_evidence_is_off_for_a_transcript_in_another_language():
    french = (
        "le ministre a reçu la lettre du consul et il lève la séance après avoir entendu "
        "les délégués qui demandent une réponse rapide sur la question des réfugiés"
    )
    r = _check(french, french.replace("lève", "lave"), lexicon=Lexicon())
    assert _only(r) == [] and [f.severity for f in r.findings] == [Severity.INFO]


def test_a_word_read_as_a_number_is_noise():
    t = BODY.replace("a long", "à long")
    r = _check(t, BODY.replace("a long", "4 long"), lexicon=Lexicon())
    assert _only(r) == []


def test_a_word_the_ocr_broke_apart_is_judged_whole():
    t = BODY.replace("special envoy", "special envoy Kenoye's")
    p = BODY.replace("special envoy", "special envoy Konoye' s")
    (f,) = _only(_check(t, p))
    assert f.severity is Severity.ERROR and f.suggestion.replace(" ", "") == "Konoye's"


LINES = [
    "On the evening of the eighteenth the ambassador at",
    "the capital received a long communication from the",
    "vice commissar reading in part as follows and the",
    "mission of the special envoy was in no way made clear",
    "so it was impossible for the government to give a",
    "definite reply to the proposal that had been made",
]


@pytest.mark.parametrize("at", [0, 2, 4])
def test_swapped_lines_are_one_line_order_finding_without_a_rewrite(at):
    swapped = LINES[:]
    swapped[at], swapped[at + 1] = swapped[at + 1], swapped[at]
    page = page_from_text("\n".join(LINES), 1)
    r = check_pages(_transcript("\n".join(swapped) + "\n"), [page], LEX)
    (f,) = r.findings
    assert f.kind is Kind.LINE_ORDER and f.severity is Severity.WARNING and f.suggestion == ""
    assert (f.transcript.line, f.transcript.end_line) == (at + 1, at + 2)
    assert f"lines {at + 1} and {at + 2}" in f.message and f"shows line {at + 2} first" in f.message


def test_transcripts_that_do_not_keep_the_scan_lines_have_no_line_order():
    page = page_from_text("\n".join(LINES), 1)
    assert check_pages(_transcript(" ".join(LINES) + "\n"), [page], LEX).findings == ()


def test_text_beyond_the_transcribed_part_is_untranscribed_info_never_a_substitution():
    scan = "LEGATION OF THE UNITED STATES\n" + "\n".join(LINES) + "\nSincerely yours,\nJohn Q. Smithers"
    transcript = "\n".join(LINES) + "\nSincerely yours,\n"
    r = check_pages(_transcript(transcript), [page_from_text(scan, 1)], LEX)
    assert {f.kind for f in r.findings} == {Kind.UNTRANSCRIBED}
    assert all(f.severity is Severity.INFO and f.transcript.text == "" for f in r.findings)
    assert {f.scan.text for f in r.findings} == {"LEGATION OF THE UNITED STATES", "John Q. Smithers"}


def test_a_closing_word_is_not_paired_with_the_signatory_below_it():
    scan = "\n".join(LINES) + "\nJohn Q. Smithers"
    transcript = "\n".join(LINES) + "\nSincerely,\n"
    r = check_pages(_transcript(transcript), [page_from_text(scan, 1)], LEX)
    assert not [f for f in r.findings if f.kind is Kind.SUBSTITUTION]
    assert any(f.kind is Kind.UNTRANSCRIBED and f.scan.text == "John Q. Smithers" for f in r.findings)


def test_a_transcript_word_the_scan_shows_unpaired_elsewhere_marks_a_wrong_pairing():
    from collections import Counter
    from types import SimpleNamespace as W

    from ocr_fix.triage import _paired_elsewhere, _word_key

    unpaired = Counter(_word_key(w) for w in ("Enclosures:", "Montgomery.", "of"))
    # "Enclosures:" paired with the signatory's "Montgomery." while the page shows
    # "Enclosures:" among the scan words the alignment left unpaired.
    assert _paired_elsewhere([W(text="Enclosures:")], [W(text="Montgomery.")], unpaired) == 1.0
    # A slip the scan reads right: the transcript's word is nowhere else.
    assert _paired_elsewhere([W(text="Kenoye")], [W(text="Konoye")], unpaired) == 0.0
    # The pair's own scan words do not count, nor do short words.
    assert _paired_elsewhere([W(text="Montgomery")], [W(text="Montgomery.")], unpaired) == 0.0
    assert _paired_elsewhere([W(text="of")], [W(text="on")], unpaired) == 0.0


@pytest.mark.parametrize(
    "scan,named",
    [
        ("1945)", "1945"),  # a mark the scan adds to a number names the number
        ("#1214,", "1214"),
        ("1946", "5"),  # a digit that differs names the digit
        ("May)", None),  # a word: unchanged (the substitution names the word)
    ],
)
def test_a_number_with_a_mark_more_on_the_scan_names_the_number(scan: str, named: str | None) -> None:
    word = "May" if named is None else ("#1214" if "#" in scan else "1945")
    text = BODY.replace("envoy", f"envoy {word}")
    r = _check(text, text.replace(f"envoy {word}", f"envoy {scan}"))
    (f,) = [f for f in r.findings if f.kind is Kind.SUBSTITUTION]
    assert f.transcript is not None and f.transcript.text == (named if named is not None else word)
