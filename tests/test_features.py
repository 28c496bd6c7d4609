"""Features of a disagreement (one question each), the evidence model's inference, the
verifier's features through a fake verifier, and reasons rendered from features."""

from __future__ import annotations

import math
import re
import sys
import types
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ocr_fix.crosscheck import in_context, readings, respace, verifier_features
from ocr_fix.decide import CLIP, DIGITS, EvidenceModel, KindModel, model_kind, row
from ocr_fix.evidence import Evidence
from ocr_fix.features import (
    closed_word_mark,
    edge_feature,
    fold_reading,
    insertion_features,
    letter_confusions,
    mark_change,
    omission_features,
    repeated_confusions,
    stop_fits,
    substitution_features,
    suggest,
)
from ocr_fix.lexicon import Dictionary, Lexicon, Pattern, Term
from ocr_fix.model import BBox, Finding, Kind, ScanSpan, Severity, TranscriptSpan
from ocr_fix.normalize.typography import normalize_transcript
from ocr_fix.report.explain import message, reasons
from ocr_fix.transcript import Transcript
from tests.fakes import page_from_text

LEX = Lexicon.build([Term("Konoye", "name"), Term("Togo", "name")], [Pattern(re.compile(r"H-\d{6}"))])
EV = Evidence(LEX, Dictionary.english())


def sub(t: str, o: str, conf: float = 95.0, context: tuple[str, str] | None = None, **kw) -> dict:
    return substitution_features(EV, t, o, suggest(EV, t, o), conf, context, **kw)


def test_confidence_features():
    f = sub("Kenoye", "Konoye", conf=96)
    assert f["ocr_conf"] == 0.96 and f["conf_high"] == 1 and f["conf_floor"] == 0
    f = sub("Kenoye", "Konoye", conf=12)
    assert f["conf_floor"] == 1 and f["conf_high"] == 0


def test_lexicon_and_word_status_of_both_readings():
    f = sub("Kenoye", "Konoye")
    assert (f["t_in_lexicon"], f["o_in_lexicon"], f["t_is_word"], f["o_is_word"]) == (0, 1, 0, 1)
    assert f["t_near_term"] == 1 and f["edit_distance"] == 1
    f = sub("Togo", "Tojo")
    assert f["t_in_lexicon"] == 1 and f["o_in_lexicon"] == 0


def test_case_and_punctuation_only():
    assert sub("Government", "government")["case_only"] == 1
    f = sub("said.", "said")
    assert f["punct_only"] == 1 and f["case_only"] == 0
    assert sub("—", "word")["marks_only"] == 1


def test_lookalike_direction_transcript_digit_is_a_typing_slip():
    f = sub("Wash1ngton", "Washington")
    assert f["lookalike_digit_in_transcript"] == 1 and f["lookalike_digit_in_scan"] == 0
    f = sub("Washington", "Wash1ngton")
    assert f["lookalike_digit_in_transcript"] == 0 and f["lookalike_digit_in_scan"] == 1
    assert sub("1921", "1927")["both_numbers"] == 1
    assert sub("a", "4")["word_read_as_number"] == 1


def test_letter_lookalikes():
    assert sub("modern", "modem")["lookalike_letters"] == 1
    assert sub("from", "form")["lookalike_letters"] == 0


def test_identifier_patterns_and_their_suggestion():
    f = sub("E-197715", "H-197715")
    assert f["o_pattern"] == 1 and f["t_pattern"] == 0 and f["digits"] == 1
    assert suggest(EV, "E-197715", "H-197716") == "H-197715"  # the scan's letter, the transcript's digits


def test_suggestion_is_the_nearest_term_when_neither_reading_is_a_word():
    assert suggest(EV, "Kenoye", "Kcnoyc") == "Konoye"
    assert suggest(EV, "tbe", "the") == "the"


def test_context_and_rarity_only_between_two_words():
    f = sub("is", "in", context=("enemy", "order"))
    assert f["context_llr"] > 1
    assert sub("Kenoye", "Konoye", context=("prince", "said"))["context_llr"] == 0
    assert sub("our", "cur")["rarity"] > 2


def test_dittography_and_bracket_flags_pass_through():
    assert sub("the", "he", repeats=True)["repeats_neighbour"] == 1
    assert sub("x", "x)", balances=True)["restores_balance"] == 1


def test_the_next_words_case_says_which_full_stop_fits():
    # +1: the scan's reading; -1: the transcript's; 0: no sentence stop differs.
    assert stop_fits("the", "the.", "house") == -1  # a speck read as a stop
    assert stop_fits("July,", "July.", "The") == 1  # a comma typed for a stop
    assert stop_fits("end.", "end", "and") == 1
    assert stop_fits('end."', 'end"', "(The") == -1  # closing quote and opening bracket skipped
    assert stop_fits("were,", "were", "and") == 0  # commas say nothing here
    assert stop_fits("end.", "end!", "The") == 0  # both end a sentence
    assert stop_fits("end.", "end", "1939") == 0  # no letter to read a case from
    assert stop_fits("end.", "end", "") == 0


def test_a_mark_after_a_word_no_clause_ends_on_says_which_side_has_it():
    assert closed_word_mark("the", "the.") == 1  # a speck read as a stop
    assert closed_word_mark("und,", "und") == -1  # a comma typed after a conjunction
    assert closed_word_mark('"The', '"The:') == 1
    assert closed_word_mark("house", "house.") == 0  # a clause may end on a noun
    assert closed_word_mark("the,", "the.") == 0  # both sides have a mark
    assert closed_word_mark("the", "then.") == 0  # not the same word


def test_the_mark_after_a_word_differs_in_one_of_four_ways():
    def flags(t: str, o: str) -> set[str]:
        return {k for k, v in mark_change(t, o).items() if v}

    assert flags("despair", "despair,") == {"scan_adds_comma"}
    assert flags("food", "food;") == {"scan_adds_comma"}  # a mark with a tail
    assert flags("secretly", "secretly.") == {"scan_adds_stop"}  # a speck looks like this
    assert flags("clear", "clear:") == {"scan_adds_stop"}
    assert flags("Sum.", "Sum") == {"scan_drops_mark"}
    assert flags("format,", "format.") == {"marks_swapped"}
    assert flags("July", "July),") == {"scan_adds_comma"}  # behind a closing bracket
    assert flags('hope."', "hope.") == set()  # the same mark; a quote differs
    assert flags("said", "said") == set()
    # Only readings that differ in marks alone get the flags.
    assert {k for k in mark_change("x", "y") if sub("despair", "repair,")[k]} == set()
    assert sub("despair", "despair,")["scan_adds_comma"] == 1


def test_a_hyphen_the_scan_lost_is_its_own_feature():
    assert sub("H-198381", "H 198381,")["hyphen_only"] == 1
    assert sub("Moscow-Tokyo", "Moscow Tokyo.")["hyphen_only"] == 1
    assert sub("Moscow-Tokyo", "Moscow-Tokyo.")["hyphen_only"] == 0  # the same hyphens
    assert sub("H-198381", "H 198387")["hyphen_only"] == 0  # a digit differs too


def test_page_edge():
    assert edge_feature(BBox(10, 10, 60, 40), 1000, 1000) == 1
    assert edge_feature(BBox(400, 400, 600, 440), 1000, 1000) == 0
    assert edge_feature(None, 1000, 1000) == 0


def test_omission_features():
    f = omission_features(EV, ["in", "part", "Konoye"], [96, 91, 88], at_edge=False, crosses=True, edge=0.0)
    assert f["span_words"] == 3 and f["span_conf"] == 0.88 and f["word_share"] == 1
    assert f["lexicon_share"] == pytest.approx(1 / 3, abs=1e-3) and f["crosses_line"] == 1
    assert (
        omission_features(EV, ["12", "3"], [90, 90], at_edge=True, crosses=False, edge=1)["all_numbers"] == 1
    )


def test_insertion_features():
    f = insertion_features(EV, ["vice"], 96, repeats=True, at_edge=False, edge=0)
    assert f["repeats_neighbour"] == 1 and f["neighbour_conf"] == 0.96 and f["marks_only"] == 0
    assert insertion_features(EV, ["*"], 96, repeats=False, at_edge=False, edge=0)["marks_only"] == 1


def test_folding_is_case_punctuation_and_spacing():
    assert fold_reading("war ,") == fold_reading("War,") == "war"


# ---- the model -------------------------------------------------------------------


def _model(coef: dict[str, float], intercept: float = 0.0) -> EvidenceModel:
    names = tuple(coef)
    m = KindModel(names, np.zeros(len(names)), np.ones(len(names)), np.array(list(coef.values())), intercept)
    return EvidenceModel({("substitution", "first"): m, ("substitution", "full"): m}, 0.9, 0.6, 0.2, {})


def _finding(**features: float) -> Finding:
    return Finding(
        Severity.INFO,
        Kind.SUBSTITUTION,
        TranscriptSpan(1, 1, 4, "tbe", 0, 3),
        ScanSpan(1, 1, "the", 95.0, BBox(0, 0, 30, 10)),
        "the",
        "transcript has 'tbe', scan shows 'the'",
        tuple(features.items()),
    )


def test_row_handles_products_clips_and_missing_features():
    r = row({"a": 2.0, "b": 3.0, "c": 50.0}, ["a", "a*b", "clip:c", "missing", "log:b", "log:missing"])
    assert list(r) == [2.0, 6.0, CLIP, 0.0, pytest.approx(np.log(4.0)), 0.0]


def test_model_scores_and_thresholds():
    model = _model({"o_is_word": 4.0, "t_is_word": -4.0})
    high = model.decide([_finding(o_is_word=1, t_is_word=0)])[0]
    low = model.decide([_finding(o_is_word=0, t_is_word=1)])[0]
    mid = model.decide([_finding(o_is_word=1, t_is_word=1)])[0]
    assert high.severity is Severity.ERROR and high.score == pytest.approx(1 / (1 + np.exp(-4)), abs=1e-4)
    assert low.severity is Severity.INFO and mid.score == 0.5 and mid.severity is Severity.INFO
    assert _model({"x": 1.0}, 0.7).decide([_finding(x=0)])[0].severity is Severity.WARNING


def test_model_leaves_unjudged_kinds_alone():
    f = Finding(Severity.WARNING, Kind.PAGE_ORDER, None, None, "", "pages out of order")
    assert _model({"x": 1.0}).decide([f]) == [f]


def test_a_substitution_with_a_digit_has_its_own_model_where_the_weights_have_one():
    assert model_kind("substitution", {"digits": 1.0}) == DIGITS
    assert model_kind("substitution", {"digits": 0.0}) == "substitution"
    assert model_kind("omission", {"digits": 1.0}) == "omission"
    words = _model({"x": 1.0})
    ones = KindModel(("x",), np.zeros(1), np.ones(1), np.array([-3.0]), 0.0)
    both = EvidenceModel({**words.models, (DIGITS, "first"): ones}, 0.9, 0.6, 0.2, {})
    number = _finding(x=1, digits=1)
    assert both.score(number) == pytest.approx(1 / (1 + np.exp(3)))  # the digits model
    assert both.score(number.with_features(second_read=1)) == both.score(number)  # it has no full stage
    assert both.score(_finding(x=1)) == pytest.approx(1 / (1 + np.exp(-1)))  # the words' model
    assert words.score(number) == pytest.approx(1 / (1 + np.exp(-1)))  # weights without one: the kind's


def test_second_reading_is_wanted_only_in_the_band_and_once():
    model = _model({"x": 1.0})
    assert model.wants_second_reading(_finding(x=0))  # 0.5 >= 0.2
    assert not model.wants_second_reading(_finding(x=-5))
    assert not model.wants_second_reading(_finding(x=0, second_read=1))


def test_model_round_trips_through_its_dict():
    model = _model({"o_is_word": 1.5, "clip:verifier_llr": 0.3}, -0.2)
    again = EvidenceModel.from_dict(model.to_dict())
    f = _finding(o_is_word=1, verifier_llr=7)
    assert again.score(f) == pytest.approx(model.score(f))


@given(st.floats(-40, 40), st.floats(0, 30), st.floats(0, 1), st.sampled_from([0.0, 1.0]))
def test_higher_verifier_llr_never_lowers_the_shipped_score(llr, more, similarity, high):
    from ocr_fix.decide import load_model

    model = load_model()
    if model is None:
        pytest.skip("no fitted model shipped yet")
    for kind, stage in model.models:
        m = model.models[(kind, stage)]
        common = {"verifier_scored": 1.0, "similarity": similarity, "conf_high": high, "ocr_conf": 0.9}
        base = {**common, "verifier_llr": llr}
        bigger = {**common, "verifier_llr": llr + more}
        assert m.score(bigger) >= m.score(base) - 1e-12


# ---- the verifier's features ---------------------------------------------------


@dataclass(frozen=True)
class _Query:
    page: object
    box: BBox
    candidates: tuple[str, ...]
    own_reading: bool = False

    @property
    def texts(self) -> tuple[str, ...]:
        return (*self.candidates, OWN) if self.own_reading else self.candidates


OWN = "\x00own"  # as ocr_fix.verifier.OWN_READING


class FakeVerifier:
    """Log-likelihood: 0 for the text the crop "shows", -2 per differing character."""

    def __init__(self, shows: str) -> None:
        self.shows, self.asked = shows, []

    def score(self, queries):
        from rapidfuzz.distance import Levenshtein

        self.asked.extend(queries)
        return [
            tuple(0.0 if c == OWN else -2.0 * Levenshtein.distance(c, self.shows) for c in q.texts)
            for q in queries
        ]


@pytest.fixture
def fake_verifier_module(monkeypatch):
    if "ocr_fix.verifier" not in sys.modules:
        mod = types.ModuleType("ocr_fix.verifier")
        mod.ReadingQuery = _Query  # type: ignore[attr-defined]
        monkeypatch.setitem(sys.modules, "ocr_fix.verifier", mod)


def test_readings_of_a_substitution_and_an_omission():
    f = _finding()
    assert readings(f) == ("the", "the", "tbe", "tbe")
    om = Finding(
        Severity.INFO,
        Kind.OMISSION,
        TranscriptSpan(1, 1, 1, "", 0, 0),
        ScanSpan(1, 1, "in part", 95, BBox(0, 0, 9, 9)),
        "in part",
        "m",
    )
    assert readings(om) == ("in part",)


def _spaced_apart(box: BBox) -> Finding:
    """The transcript's ``LGBl. be`` against the OCR's ``1GBl.be`` (one letter misread,
    the words typed without a space)."""
    t = TranscriptSpan(1, 1, 8, "LGBl. be", 0, 7)
    return Finding(Severity.INFO, Kind.SUBSTITUTION, t, ScanSpan(1, 1, "1GBl.be", 90.0, box), "1GBl.be", "m")


def test_the_transcripts_reading_is_scored_as_the_scan_spaces_it():
    assert respace("27/38, LGBl. bestätigt", "27/38,1GBl.bestätigt") == "27/38,LGBl.bestätigt"
    assert respace("b y", "by") == "by" and respace("ofthe", "of the") == "of the"
    assert respace("of year", "of a year") == "of year"  # beside the missing word: its own
    assert respace("the the", "the") == "the the"
    f = _spaced_apart(BBox(0, 0, 90, 10))
    assert readings(f) == ("1GBl.be", "1GBl.be", "LGBl. be", "LGBl.be")
    spaced_only = replace(f, scan=replace(f.scan, text="LGBl.be"), suggestion="LGBl.be")
    assert readings(spaced_only) is None  # nothing but spacing to compare


def test_the_transcript_scores_the_better_of_its_spacings(fake_verifier_module):
    page = page_from_text("1GBl.be", 1)
    f = _spaced_apart(page.words[0].box)
    (g,) = verifier_features([f], [page], FakeVerifier("LGBl.be"))  # the page's text, unspaced
    assert g.feature("verifier_llr") == -2.0 and g.feature("verifier_t_gap") == 0.0
    (h,) = verifier_features([f], [page], FakeVerifier("LGBl. be"))  # as the transcript spaces it
    assert h.feature("verifier_llr") == -4.0 and h.feature("verifier_t_gap") == 0.0  # the 1 and the space


_spaced = st.text(alphabet="ab1. ", max_size=12)


@given(_spaced, _spaced)
def test_respace_changes_only_spaces(text: str, like: str) -> None:
    out = respace(text, like)
    assert out.replace(" ", "") == text.replace(" ", "")
    assert "  " not in out and out == out.strip()
    if text.replace(" ", "") == like.replace(" ", ""):
        assert out == " ".join(like.split())
    assert respace(text, text) == " ".join(text.split())


def test_readings_widen_in_the_transcript_as_the_page_reads_it():
    """The candidates are whole words of the folded transcript: markup is not text the
    page shows (a raw ``<sup>13</sup>`` scored as characters would lose by ~180 nats)."""
    raw = "for gasoline<sup>13</sup>, and"
    folded = normalize_transcript(Transcript(Path("t.md"), raw, "markdown"))
    at = raw.index("oline")
    f = Finding(
        Severity.INFO,
        Kind.SUBSTITUTION,
        TranscriptSpan(1, at + 1, at + 2, "o", at, at + 1),
        ScanSpan(1, 1, "gascline13,", 90.0, BBox(0, 0, 90, 10)),
        "c",
        "m",
    )
    assert readings(f, folded) == ("gascline13,", "gascline13,", "gasoline13,", "gasoline13,")


def test_verifier_llr_says_which_reading_the_image_shows(fake_verifier_module):
    alone = page_from_text("the", 1)
    at = replace(_finding(), scan=ScanSpan(1, 1, "the", 95.0, alone.words[0].box))
    (f,) = verifier_features([at], [alone], FakeVerifier("the"))
    assert f.feature("verifier_scored") == 1 and f.feature("verifier_llr") == 2.0
    assert f.feature("verifier_context") == 1  # no neighbour: the word and the margins beside it
    (g,) = verifier_features([at], [alone], FakeVerifier("tbe"))
    assert g.feature("verifier_llr") == -2.0
    page = page_from_text("the cat", 1)
    at = replace(_finding(), scan=ScanSpan(1, 1, "the", 95.0, page.words[0].box))
    (h,) = verifier_features([at], [page], FakeVerifier("the cat"))
    assert h.feature("verifier_llr") == 2.0 and h.feature("verifier_context") == 1


def test_the_gaps_say_how_far_each_reading_falls_below_the_verifiers_own(fake_verifier_module):
    """The llr compares the two readings; the gaps compare each with what the image
    shows, so a transcript and a scan reading both wrong are told apart from either
    being right (the llr of ``tbe`` against ``the`` is 2 nats either way)."""
    alone = page_from_text("the", 1)
    at = replace(_finding(), scan=ScanSpan(1, 1, "the", 95.0, alone.words[0].box))
    (f,) = verifier_features([at], [alone], FakeVerifier("the"))
    assert (f.feature("verifier_t_gap"), f.feature("verifier_o_gap")) == (2.0, 0.0)
    (g,) = verifier_features([at], [alone], FakeVerifier("thy"))  # neither side reads it
    assert (g.feature("verifier_t_gap"), g.feature("verifier_o_gap"), g.feature("verifier_llr")) == (
        4.0,
        2.0,
        2.0,
    )
    om = Finding(
        Severity.INFO,
        Kind.OMISSION,
        TranscriptSpan(1, 1, 1, "", 0, 0),
        ScanSpan(1, 1, "tho", 95.0, alone.words[0].box),
        "tho",
        "m",
    )
    (h,) = verifier_features([om], [alone], FakeVerifier("the"))
    assert h.feature("verifier_o_gap") == 2.0 and not h.has("verifier_t_gap")


def test_a_mark_outside_the_word_box_is_seen_with_the_neighbouring_words(fake_verifier_module):
    """The OCR drew ``were``'s box without the comma the transcript lacks; the word crop
    cannot tell ``were`` from ``were,``, the crop with ``they`` and ``so`` can."""
    page = page_from_text("they were so", 1)
    they, were, so = page.words
    f = Finding(
        Severity.INFO,
        Kind.SUBSTITUTION,
        TranscriptSpan(1, 6, 10, "were", 5, 9),
        ScanSpan(1, were.line, "were,", 95.0, were.box),
        "were,",
        "m",
    )
    assert in_context(f, page) == (they.box.union(so.box), "they", "so")
    marks = page_from_text("they were .. so", 1)
    they2, were2, _dots, so2 = marks.words
    g = Finding(
        f.severity, f.kind, f.transcript, ScanSpan(1, were2.line, "were", 95.0, were2.box), "were,", "m"
    )
    assert in_context(g, marks) == (they2.box.union(so2.box), "they", "so")  # the marks are no neighbour

    class Boxes:
        def score(self, queries):
            shows = {were.box: "were", they.box.union(so.box): "they were, so"}
            return [tuple(-2.0 * (c not in (shows[q.box], OWN)) for c in q.texts) for q in queries]

    assert Boxes().score([_Query(page, were.box, ("were,", "were"))]) == [(-2.0, 0.0)]  # no comma in the box
    (g,) = verifier_features([f], [page], Boxes())
    assert g.feature("verifier_llr") == 2.0 and g.feature("verifier_context") == 1  # with the neighbours


def test_marks_at_the_line_end_widen_the_crop():
    page = page_from_text('definite reply ..."', 1)
    definite, reply, dots = page.words
    f = Finding(
        Severity.INFO,
        Kind.SUBSTITUTION,
        TranscriptSpan(1, 10, 19, 'reply..."', 9, 18),
        ScanSpan(1, reply.line, "reply", 95.0, reply.box),
        "reply",
        "m",
    )
    box, left, right = in_context(f, page)
    assert (left, right) == ("definite", "") and box.x0 == definite.box.x0
    assert box.x1 == dots.box.x1  # the reach touched the marks: all of them are in


def test_the_image_is_asked_only_where_the_first_score_leaves_room(fake_verifier_module):
    model = _model({"o_is_word": 4.0}, intercept=-3.0)  # reread at 0.2
    noise, open_ = _finding(o_is_word=0), _finding(o_is_word=1)
    assert not model.wants_verifier(noise) and model.wants_verifier(open_)
    page = page_from_text("the", 1)
    asked = FakeVerifier("the")
    out = verifier_features([noise, open_], [page], asked, wanted=model.wants_verifier)
    assert len(asked.asked) == 1 and not out[0].has("verifier_scored") and out[1].has("verifier_scored")
    assert not model.wants_verifier(out[1])  # asked once
    two_words = _model({"o_is_word": -4.0}, intercept=-3.0)  # scores both-word findings low
    assert two_words.wants_verifier(_finding(t_is_word=1, o_is_word=1))  # only the image tells
    assert not two_words.wants_verifier(_finding(t_is_word=1, o_is_word=1, punct_only=1))


def test_unscorable_readings_have_no_llr(fake_verifier_module):
    class Blind:
        def score(self, queries):
            return [tuple(None for _ in q.texts) for q in queries]

    (f,) = verifier_features([_finding()], [page_from_text("the", 1)], Blind())
    assert f.feature("verifier_scored") == 0 and not f.has("verifier_llr")


# ---- reasons rendered at report time -------------------------------------------


def test_reasons_are_rendered_from_features_strongest_first():
    f = _finding(
        verifier_scored=1, verifier_llr=12.3, second_read=1, second_agrees_ocr=1, t_is_word=0, o_is_word=1
    )
    why = reasons(f)
    assert why[0] == "the verifier prefers the scan's reading by 12.3 nats"
    assert "a second reading agrees with the scan" in why and "the transcript's reading is not a word" in why
    assert message(f).startswith("transcript has 'tbe', scan shows 'the' (")


def test_a_verifier_tie_is_not_a_preference():
    for llr in (0.0, -0.03):
        why = reasons(_finding(verifier_scored=1, verifier_llr=llr))
        assert why[0] == "the verifier cannot tell the readings apart"
    why = reasons(_finding(verifier_scored=1, verifier_llr=-0.2))
    assert why[0] == "the verifier prefers the transcript's reading by 0.2 nats"


def test_the_verifiers_own_reading_is_named_when_it_is_one_sides():
    why = reasons(_finding(verifier_scored=1, verifier_llr=9.0, verifier_t_gap=9.2, verifier_o_gap=0.2))
    assert why[:2] == [
        "the verifier prefers the scan's reading by 9.0 nats",
        "the verifier itself reads the scan's text",
    ]
    why = reasons(_finding(verifier_scored=1, verifier_llr=-4.0, verifier_t_gap=0.0, verifier_o_gap=4.0))
    assert why[1] == "the verifier itself reads the transcript's text"
    for t, o in ((0.1, 0.3), (6.0, 2.0)):  # both read, or neither
        assert not any(
            "itself" in r
            for r in reasons(
                _finding(verifier_scored=1, verifier_llr=o - t, verifier_t_gap=t, verifier_o_gap=o)
            )
        )


def test_the_ink_after_a_word_is_a_reason_of_its_own():
    why = reasons(_finding(verifier_scored=1, verifier_llr=1.0, mark_scored=1, mark_llr=8.25))
    assert why[1] == "the ink after the word looks like the scan's mark on this page, by 8.2 nats"
    why = reasons(_finding(mark_scored=1, mark_llr=-3.0))
    assert why[0] == "the ink after the word looks like the transcript's mark on this page, by 3.0 nats"
    assert reasons(_finding(mark_scored=1, mark_llr=0.0))[0] == "the ink after the word fits either mark"
    assert not any("ink" in r for r in reasons(_finding(mark_scored=0)))


def test_a_finding_without_features_is_its_message():
    f = Finding(Severity.ERROR, Kind.MISMATCH, None, None, "", "scans do not match")
    assert reasons(f) == [] and message(f) == "scans do not match"


def test_features_are_set_by_name_in_place():
    f = _finding(a=1, b=2).with_features(a=3, c=4)
    assert f.features == (("a", 3.0), ("b", 2.0), ("c", 4.0)) and f.feature("zz", -1) == -1


def test_a_lexicon_term_read_at_any_confidence_waits_for_a_second_reading():
    model = _model({"x": 1.0})
    assert model.wants_second_reading(_finding(x=-9, o_in_lexicon=1, t_in_lexicon=0, ocr_conf=0.0))
    assert not model.wants_second_reading(_finding(x=-9, o_in_lexicon=1, t_in_lexicon=1))


def test_a_footnote_number_after_a_word_is_no_digit_among_letters():
    f = sub("espionage14", "espionagei4")
    assert f["lookalike_digit_in_transcript"] == 0
    assert sub("c0mmittee", "committee")["lookalike_digit_in_transcript"] == 1


def test_a_footnote_mark_the_scan_reads_otherwise():
    assert sub("discussions.11", "discussions.ii")["footnote_mark"] == 1
    assert sub("espionage14", "espionagei4")["footnote_mark"] == 1
    assert sub("1921", "1927")["footnote_mark"] == 0 and sub("Wash1ngton", "Washington")["footnote_mark"] == 0


def test_spacing_only():
    assert sub("demands.19", "demands .19")["space_only"] == 1
    assert sub("said.", "said")["space_only"] == 0


def test_letter_confusions_name_the_letters_the_scan_has_instead():
    assert letter_confusions("Baeck", "Baeok") == {("c", "o")}
    assert letter_confusions("cut,", "OUT") == {("c", "o")}  # case and marks folded
    assert letter_confusions("Konoye", "Kenoye") == {("o", "e")}
    assert letter_confusions("Baeck", "Baeck.") == set()  # the same letters
    assert letter_confusions("Lozovsky", "Loshvsky") == {("z", "s"), ("o", "h")}
    assert letter_confusions("Konoye", "Kanaya") == set()  # three edits apart
    assert letter_confusions("", "x") == set()


def test_a_confusion_the_engine_repeats_across_a_document_is_counted():
    pairs = [("Baeck", "Baeok"), ("cut", "out"), ("Lunch", "Lunoh"), ("Togo", "Tojo"), ("said", "said,")]
    values = repeated_confusions(pairs)
    assert values[:3] == [round(math.log1p(2), 3)] * 3  # c read as o twice elsewhere
    assert values[3:] == [0.0, 0.0]  # a confusion seen once; no letters differ
    assert repeated_confusions([]) == []
