"""The evidence about one disagreement, as named numbers.

Triage finds the places where the transcript and the scan disagree; this module says,
for each, what the general sources of evidence show — OCR confidence, the lexicon, the
dictionary, word-pair context, the kind of confusion — as a flat mapping of feature name
to number. Later stages add their own features (:mod:`ocr_fix.verify`: a second
Tesseract reading of the line; the CTC verifier: the log-likelihood of each reading on
the crop). :mod:`ocr_fix.decide` turns the features into the probability that the
transcript is wrong. Nothing here decides, and nothing names a word of any document.

Booleans are 0.0/1.0. Every feature has a name in :data:`DESCRIPTIONS` (the report
renders reasons from them).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence

from rapidfuzz.distance import Levenshtein

from ocr_fix.evidence import (
    Evidence,
    garbled,
    has_digit,
    homoglyphs_only,
    is_number,
    with_core,
)
from ocr_fix.lexicon import bare
from ocr_fix.model import BBox
from ocr_fix.normalize.tokens import loose_key

__all__ = [
    "DESCRIPTIONS",
    "EDGE_SHARE",
    "LETTER_LOOKALIKES",
    "closed_word_mark",
    "edge_feature",
    "fold_reading",
    "insertion_features",
    "letter_confusions",
    "mark_change",
    "omission_features",
    "repeated_confusions",
    "stop_fits",
    "substitution_features",
    "suggest",
]

#: Letter groups a typewriter face makes near twins (``rn``/``m``); OCR swaps them both
#: ways, typists hardly ever.
LETTER_LOOKALIKES = (("rn", "m"), ("cl", "d"), ("li", "h"), ("vv", "w"), ("ri", "n"), ("ii", "u"), ("c", "e"))

#: A box whose centre lies within this share of the page's width or height from an edge
#: is "near the edge": letterheads, reference lines, page numbers and stamps live there.
EDGE_SHARE = 0.08

#: What each feature means, for documentation and for rendering reasons.
DESCRIPTIONS: dict[str, str] = {
    "typewriter_on_scan": "the scan shows a typewriter substitute of the transcript's word (ae for \u00e4)",
    "typewriter_in_transcript": "the transcript has a typewriter substitute of the scan's word",
    "editorial_gap": "the transcript's editor marked a gap here (TEI <gap/>)",
    "editorial_unclear": "the transcript's editor marked this text unclear (TEI <unclear>)",
    "under_redaction": "the scan shows a redaction bar here: the text is withheld, not missing",
    "ocr_conf": "Tesseract's word confidence of the scan reading (0..1; lowest word of the span)",
    "conf_floor": "the scan reading's confidence is below 0.30: hardly evidence",
    "conf_high": "the scan reading's confidence is at least 0.85",
    "case_only": "the readings differ in letter case only",
    "punct_only": "the readings differ in punctuation or spacing only",
    "space_only": "the readings differ in spacing only",
    "hyphen_only": "the readings have the same letters and digits and differ in hyphens (and marks)",
    "footnote_mark": "the transcript's word ends in a number (a footnote mark) the scan reads otherwise",
    "marks_only": "one reading has no letters or digits",
    "t_in_lexicon": "the transcript's reading is a lexicon term",
    "o_in_lexicon": "the scan's reading (as suggested) is a lexicon term",
    "t_is_word": "the transcript's reading is a word (lexicon, dictionary, number, identifier)",
    "o_is_word": "the scan's reading is a word",
    "o_garbled": "the scan's reading has a symbol against a letter (OCR noise)",
    "t_pattern": "the transcript's reading matches a lexicon identifier pattern",
    "o_pattern": "the scan's reading matches a lexicon identifier pattern",
    "digits": "either reading holds a digit",
    "both_numbers": "both readings are numbers",
    "word_read_as_number": "a transcript word where the scan reads a number",
    "lookalike_digit_in_transcript": "a digit/letter look-alike, the digit in the transcript's letters",
    "lookalike_digit_in_scan": "a digit/letter look-alike, the digit on the scan's side",
    "lookalike_letters": "letter groups typewriter faces make twins (rn/m, cl/d)",
    "edit_distance": "characters changed between the readings (letters and digits, capped at 6)",
    "similarity": "normalised similarity of the readings' letters and digits, case folded (0..1)",
    "t_near_term": "the transcript's non-word is one or two edits from the suggested lexicon term",
    "context_llr": "log10 word-pair evidence for the scan's word minus the transcript's",
    "rarity": "orders of magnitude by which the scan's word is rarer than the transcript's",
    "repeats_neighbour": "the transcript repeats the word beside it",
    "restores_balance": "the scan's reading closes a bracket the transcript leaves open",
    "stop_fits_scan": "the next word's case fits the scan's sentence stop (+1), the transcript's (-1)",
    "letters_misread": "the OCR misread the word's letters; its marks are judged apart",
    "confusion_repeats": "log(1 + other disagreements of the document with the same letter for letter)",
    "closed_word_mark": "a mark after a word no clause ends on (the, und): scan (+1), transcript (-1)",
    "scan_adds_comma": "only the scan has a comma or semicolon after the word",
    "scan_adds_stop": "only the scan has a full stop, colon or other mark after the word",
    "scan_drops_mark": "only the transcript has a mark after the word",
    "marks_swapped": "both readings end the word with a mark, a different one",
    "span_words": "words in the span (transcript side; scan side for an omission)",
    "scan_words": "words of the scan reading",
    "near_page_edge": "the scan words lie near the page's edge",
    "speaks": "the dictionary speaks the transcript's language",
    "verifier_context": "the verifier scored the readings with the words either side (a wider crop)",
    "whole_lines": "the omitted scan words are every word of the scan lines they touch",
    "in_block": "the scan words either side of the omitted ones are in the same text block",
    "dehyphenated": "the transcript breaks the word at a line end with a hyphen",
    "elsewhere": "share of the scan text's word trigrams that the transcript has in another place",
    "t_unpaired_on_scan": "share of the transcript's words the page shows among scan words left unpaired",
    "span_conf": "lowest confidence of the span's scan words (0..1)",
    "mean_conf": "mean confidence of the span's scan words (0..1)",
    "word_share": "share of the span's words that are words",
    "lexicon_share": "share of the span's words that are lexicon terms",
    "all_numbers": "every word of the span is a number",
    "at_alignment_edge": "before the first or after the last agreeing word of the page",
    "crosses_line": "the span runs over a line break",
    "neighbour_conf": "confidence of the scan words either side of an insertion (0..1)",
    "second_read": "the line was read a second time",
    "second_agrees_ocr": "the second reading agrees with the first (case, punctuation, spacing folded)",
    "second_agrees_transcript": "the second reading agrees with the transcript",
    "second_contradicts_both": "the second reading agrees with neither",
    "second_is_lexicon": "the second reading is a lexicon term the transcript lacks",
    "glyph_doubt": "Tesseract weighed the transcript's characters for the differing glyphs",
    "triage_rank": "the severity triage's rules give before any other evidence (1 info, 2 warning, 3 error)",
    "rule_backed": "triage's rules rest the verdict on the lexicon (a term or an identifier pattern)",
    "rule_pending": "triage's rules would raise the finding if a second reading confirmed it",
    "verifier_scored": "the verifier scored both readings on the crop",
    "verifier_llr": "verifier log-likelihood (nats) of the scan's reading minus the transcript's",
    "verifier_t_gap": "how far (nats) the transcript's reading falls below the verifier's own reading",
    "verifier_o_gap": "how far (nats) the scan's reading falls below the verifier's own reading",
    "mark_scored": "the ink after the word was set against the page's own marks (ocr_fix.marks)",
    "mark_llr": "log-likelihood of that ink as the scan's mark minus as the transcript's (page's own marks)",
}


def fold_reading(text: str) -> str:
    """A reading with case, punctuation and spacing folded (how readings are compared)."""
    return loose_key(text).casefold()


def _alnum(text: str) -> str:
    return "".join(c for c in text if c.isalnum())


def _hyphens(text: str) -> int:
    return sum(text.count(c) for c in "-\u2010\u2011\u2012\u2013\u2014")


def _digits_among_letters(text: str) -> int:
    """Digits with a letter on both sides (``Wash1ngton``), not a number after a word
    (``espionage14``, a footnote mark) nor one beside punctuation."""
    return sum(
        1
        for i, c in enumerate(text)
        if c.isdigit() and 0 < i < len(text) - 1 and text[i - 1].isalpha() and text[i + 1].isalpha()
    )


_TRAILING_DIGITS = re.compile(r"(?<=[^\W\d_])[.,;:!?\"')\]]*(\d+)$")


def _trailing_digits(text: str) -> int:
    """Digits that end a word after its letters (``discussions.11``, ``espionage14``):
    a footnote or reference mark, often superscript, which OCR reads badly."""
    m = _TRAILING_DIGITS.search(text)
    return len(m.group(1)) if m else 0


def _lookalike_side(t: str, o: str) -> tuple[float, float]:
    """(digit in transcript, digit on scan) for a difference made only of digit/letter
    look-alikes: which side holds a digit inside a run of letters."""
    a, b = _alnum(t), _alnum(o)
    if not homoglyphs_only(a, b):
        return 0.0, 0.0
    t_digits, o_digits = _digits_among_letters(t), _digits_among_letters(o)
    return float(t_digits > o_digits), float(o_digits > t_digits)


def _letter_lookalike(t: str, o: str) -> float:
    a, b = _alnum(t).casefold(), _alnum(o).casefold()
    if a == b:
        return 0.0
    for x, y in LETTER_LOOKALIKES:
        for p, q in ((x, y), (y, x)):
            if p in a and a.replace(p, q) == b:
                return 1.0
            if p in a and a.replace(p, q, 1) == b:
                return 1.0
    return 0.0


#: Marks that end a sentence, and what may close around one (``end."``, ``end.)``).
_STOPS = ".!?"
_CLOSERS = "\"'\u201d\u2019)]"


def _ends_sentence(word: str) -> bool:
    core = word.rstrip(_CLOSERS)
    return bool(core) and core[-1] in _STOPS


def stop_fits(t: str, o: str, following: str) -> float:
    """Which reading the next word's case supports where exactly one of the readings
    ``t`` (transcript) and ``o`` (scan) ends a sentence: a capital after the stop, a
    small letter after none. +1 the scan's reading, -1 the transcript's, 0 when both or
    neither end a sentence or the next word does not start with a letter. Tesseract
    turns specks into full stops (``the.`` before ``house``) and a typist's comma for a
    full stop leaves a capital behind it; an abbreviation (``Mr.``) only blurs this."""
    first = following.lstrip(_CLOSERS + "(\u201c\u2018")[:1]
    t_stop, o_stop = _ends_sentence(t), _ends_sentence(o)
    if t_stop == o_stop or not first.isalpha() or first.upper() == first.lower():
        return 0.0
    fits_stop = first.isupper()
    return 1.0 if o_stop == fits_stop else -1.0


#: Words a clause does not end on in English, German and French (articles, possessive
#: determiners, conjunctions, prepositions that are not left stranded): a comma, colon
#: or full stop after one is a speck or a slip. Measured on the calibration sets before
#: this feature: 45 scan readings that put a full stop after such a word, none of them
#: right.
CLOSED_WORDS = frozenset(
    "a an the and or nor of his its their our my your whose than into "
    "der des ein eine einen einem einer eines und oder zum zur vom im "
    "le la les une du de et ou au aux dans pour par sur".split()
)
_MARKS_AFTER = ",.;:"


def _closed_core(word: str) -> str:
    """``word`` in small letters without the quotes, brackets and marks around it."""
    return word.rstrip(_CLOSERS + _MARKS_AFTER).lstrip(_CLOSERS + "(\u201c\u2018").lower()


_TRAILING_MARKS = re.compile(r"[.,;:!?]+$")
#: Marks with a tail: a speck or a stain is read as a full stop or a colon far more often
#: than as one of these.
_TAILED = frozenset(",;")


def _trailing_mark(word: str) -> str:
    """The marks that end ``word`` (before closing quotes and brackets); ``""`` if none."""
    m = _TRAILING_MARKS.search(word.rstrip(_CLOSERS))
    return m.group(0) if m else ""


def mark_change(t: str, o: str) -> dict[str, float]:
    """Which way the mark after a word differs between the transcript's reading ``t`` and
    the scan's ``o``, as four exclusive flags (all 0 when the marks agree): the scan adds
    a comma or semicolon, the scan adds another mark, the scan drops the transcript's
    mark, the two marks differ. Call it for readings that differ in marks only.

    Why the direction and the mark matter, measured on the calibration sets (two seeds,
    readings differing in marks only): where only the scan had a full stop, 42 were
    transcript slips and 194 specks or stains on the page; where only the scan had a
    comma, 45 slips and 77 others (most of them misaligned pairs); where only the
    transcript had a full stop, 4 slips and 139 marks too faint for the OCR. One weight
    for all marks made the model distrust every comma the transcript lacks."""
    tm, om = _trailing_mark(t), _trailing_mark(o)
    return {
        "scan_adds_comma": float(not tm and om in _TAILED),
        "scan_adds_stop": float(not tm and bool(om) and om not in _TAILED),
        "scan_drops_mark": float(bool(tm) and not om),
        "marks_swapped": float(bool(tm) and bool(om) and tm != om),
    }


def letter_confusions(t: str, o: str) -> frozenset[tuple[str, str]]:
    """The single letters (or digits) the scan's reading ``o`` has in place of the
    transcript's ``t``, case folded, as ``(transcript's, scan's)`` pairs; empty unless the
    two are at most two such edits apart (``Baeck``/``Baeok``: ``{("c", "o")}``)."""
    a, b = _alnum(t).casefold(), _alnum(o).casefold()
    if not a or not b or a == b or Levenshtein.distance(a, b) > 2:
        return frozenset()
    ops = Levenshtein.editops(a, b)
    return frozenset((a[op.src_pos], b[op.dest_pos]) for op in ops if op.tag == "replace")


def repeated_confusions(pairs: Sequence[tuple[str, str]]) -> list[float]:
    """For each ``(transcript, scan)`` reading pair of one document: ``log(1 + n)``, ``n``
    the number of other pairs that share one of its :func:`letter_confusions`.

    A typist's slips are scattered; an engine's confusions repeat wherever a typeface
    gives it the same trouble (a worn ``c`` read as ``o`` in twenty words of one
    testimony). Measured on the calibration sets (two seeds, held out): with this
    feature the realdata testimony's ``cut``/``out`` and ``Reichsaltersheim``/
    ``Reiohsaltersheim`` fell under the threshold, recall 0.897 to 0.900."""
    each = [letter_confusions(t, o) for t, o in pairs]
    count = Counter(c for cs in each for c in cs)
    return [round(math.log1p(max((count[c] - 1 for c in cs), default=0)), 3) for cs in each]


def closed_word_mark(t: str, o: str) -> float:
    """+1 where the scan's reading ``o`` puts a mark after a word of
    :data:`CLOSED_WORDS` that the transcript's ``t`` does not, -1 the other way round,
    0 otherwise (the same word on both sides, told apart only by the marks after it)."""
    word = _closed_core(t)
    if word not in CLOSED_WORDS or _closed_core(o) != word:
        return 0.0
    t_mark = t.rstrip(_CLOSERS)[-1:] in _MARKS_AFTER
    o_mark = o.rstrip(_CLOSERS)[-1:] in _MARKS_AFTER
    return float(o_mark) - float(t_mark)


def edge_feature(box: BBox | None, width: int, height: int) -> float:
    if box is None or width <= 0 or height <= 0:
        return 0.0
    cx, cy = (box.x0 + box.x1) / 2, (box.y0 + box.y1) / 2
    return float(min(cx, width - cx) < EDGE_SHARE * width or min(cy, height - cy) < EDGE_SHARE * height)


def suggest(ev: Evidence, t: str, o: str) -> str:
    """What the transcript should say, from the scan's reading ``o``: the smallest
    correction that matches an identifier pattern; a near-miss of a lexicon term as the
    term; the nearest lexicon term to a transcript non-word when the scan's reading is
    no word either; otherwise ``o`` itself."""
    digits = has_digit(t) or has_digit(o)
    if digits and ev.lexicon.pattern_for(o) and not ev.lexicon.pattern_for(t):
        return ev.pattern_fix(t, o)
    s = ev.lexicon_form(o, t)
    if digits:
        return s
    if not ev.plausible(t) and not ev.in_lexicon(s) and not (ev.plausible(s) and not garbled(s)):
        near = ev.lexicon.nearest(t, 2)
        if near:
            return with_core(t, near[0][0])
    return s


def substitution_features(
    ev: Evidence,
    t: str,
    o: str,
    suggestion: str,
    conf: float,
    context: tuple[str, str] | None,
    *,
    repeats: bool = False,
    balances: bool = False,
    t_words: int = 1,
    o_words: int = 1,
    edge: float = 0.0,
) -> dict[str, float]:
    """Features of the transcript's reading ``t`` against the scan's ``o`` (suggested
    as ``suggestion``), read at Tesseract confidence ``conf`` (0..100); ``context`` is
    the transcript words either side (None for a multi-word span)."""
    digits = has_digit(t) or has_digit(o)
    t_ok = ev.plausible(t)
    o_ok = ev.plausible(suggestion) and not garbled(suggestion)
    t_lex, o_lex = ev.in_lexicon(t), ev.in_lexicon(suggestion)
    same_key = loose_key(t) == loose_key(o)
    case_only = t != o and t.lower() == o.lower()  # ß/ss is a letter difference
    t_digit, o_digit = _lookalike_side(t, o)
    near = ev.lexicon.nearest(t, 2) if not t_ok else []
    context_llr = 0.0
    if context is not None and t_ok and o_ok and not digits:
        context_llr = ev.context_score(context, suggestion) - ev.context_score(context, t)
    rarity = ev.rarity(t, suggestion) if t_ok and o_ok and not digits else 0.0
    punct_only = same_key and not case_only
    return {
        "ocr_conf": round(conf / 100, 3),
        "conf_floor": float(conf < 30),
        "conf_high": float(conf >= 85),
        "case_only": float(case_only),
        "punct_only": float(punct_only),
        "space_only": float(t != o and "".join(t.split()) == "".join(o.split())),
        # A thin hyphen vanishes under wear and light inking (``H-198381`` read
        # ``H 198381``): both engines then miss it, and a transcriber rarely drops one.
        "hyphen_only": float(_hyphens(t) != _hyphens(o) and _alnum(t).casefold() == _alnum(o).casefold()),
        "footnote_mark": float(_trailing_digits(t) > 0 and _trailing_digits(t) != _trailing_digits(o)),
        "marks_only": float(not any(c.isalnum() for c in t) or not any(c.isalnum() for c in o)),
        "t_in_lexicon": float(t_lex),
        "o_in_lexicon": float(o_lex),
        "t_is_word": float(t_ok),
        "o_is_word": float(o_ok),
        "o_garbled": float(garbled(o)),
        "t_pattern": float(digits and ev.lexicon.pattern_for(t) is not None),
        "o_pattern": float(digits and ev.lexicon.pattern_for(o) is not None),
        "digits": float(digits),
        "both_numbers": float(is_number(bare(t)) and is_number(bare(o))),
        "word_read_as_number": float(not has_digit(t) and is_number(bare(o))),
        "lookalike_digit_in_transcript": t_digit,
        "lookalike_digit_in_scan": o_digit,
        "lookalike_letters": _letter_lookalike(t, o),
        "edit_distance": float(min(6, Levenshtein.distance(_alnum(t), _alnum(o)))),
        "similarity": round(Levenshtein.normalized_similarity(_alnum(t).casefold(), _alnum(o).casefold()), 3),
        "t_near_term": float(bool(near) and loose_key(near[0][0]) == loose_key(suggestion)),
        "context_llr": round(context_llr, 3),
        "rarity": round(rarity, 3),
        "repeats_neighbour": float(repeats),
        "restores_balance": float(balances),
        "span_words": float(t_words),
        "scan_words": float(o_words),
        "near_page_edge": edge,
        "speaks": float(ev.speaks),
        **mark_change(t if punct_only else "", o if punct_only else ""),
    }


def omission_features(
    ev: Evidence, words: list[str], confs: list[float], *, at_edge: bool, crosses: bool, edge: float
) -> dict[str, float]:
    """Features of scan words (``words``, read at ``confs``) the transcript lacks."""
    bare_words = [b for b in (bare(w) for w in words) if b]
    n = max(len(bare_words), 1)
    return {
        "span_words": float(len(words)),
        "span_conf": round(min(confs, default=0.0) / 100, 3),
        "mean_conf": round(sum(confs) / max(len(confs), 1) / 100, 3),
        "word_share": round(sum(ev.plausible(w) and not garbled(w) for w in bare_words) / n, 3),
        "lexicon_share": round(sum(ev.lexicon.contains(w) for w in bare_words) / n, 3),
        "all_numbers": float(bool(bare_words) and all(is_number(w) for w in bare_words)),
        "marks_only": float(not bare_words),
        "at_alignment_edge": float(at_edge),
        "crosses_line": float(crosses),
        "near_page_edge": edge,
        "speaks": float(ev.speaks),
    }


def insertion_features(
    ev: Evidence, words: list[str], neighbour_conf: float, *, repeats: bool, at_edge: bool, edge: float
) -> dict[str, float]:
    """Features of transcript words (``words``) that the scan does not show."""
    bare_words = [b for b in (bare(w) for w in words) if b]
    n = max(len(bare_words), 1)
    return {
        "span_words": float(len(words)),
        "neighbour_conf": round(neighbour_conf / 100, 3),
        "repeats_neighbour": float(repeats),
        "word_share": round(sum(ev.plausible(w) for w in bare_words) / n, 3),
        "all_numbers": float(bool(bare_words) and all(is_number(w) for w in bare_words)),
        "marks_only": float(not any(len(w) > 1 and not is_number(w) for w in bare_words)),
        "at_alignment_edge": float(at_edge),
        "near_page_edge": edge,
        "speaks": float(ev.speaks),
    }
