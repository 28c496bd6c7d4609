"""Reasons for a finding's severity, rendered from its features at report time.

The core records *why* as named numbers (:mod:`ocr_fix.features`) and the evidence
model's score; every formatter (table, JSON, GitHub, HTML) turns them into the same few
short phrases here. The strongest pieces of evidence come first; a finding without
features (coverage, mismatch, lexicon-only mode) has only its message.
"""

from __future__ import annotations

from ocr_fix.model import Finding

__all__ = ["message", "reasons"]


def _conf(f: Finding) -> str | None:
    for name in ("ocr_conf", "span_conf", "neighbour_conf"):
        if f.has(name):
            return f"OCR confidence {f.feature(name) * 100:.0f}"
    return None


#: A reading within this many nats of the verifier's own is the one it reads.
OWN_GAP = 0.5


def _own_reading(f: Finding) -> str | None:
    """Which side's reading the verifier reads itself (its gap near 0, the other's not)."""
    if not (f.has("verifier_t_gap") and f.has("verifier_o_gap")):
        return None
    t, o = f.feature("verifier_t_gap"), f.feature("verifier_o_gap")
    if t <= OWN_GAP < o:
        return "the transcript's text"
    if o <= OWN_GAP < t:
        return "the scan's text"
    return None


def reasons(f: Finding) -> list[str]:
    """Short phrases, strongest first, for the evidence behind ``f``."""
    if not f.features:
        return []
    g = f.feature
    out: list[str] = []
    if g("under_redaction"):
        out.append("under a redaction bar on the scan: withheld text")
    if f.has("verifier_scored") and g("verifier_scored"):
        llr = g("verifier_llr")
        if abs(llr) < 0.05:  # would print "prefers ... by 0.0 nats"
            out.append("the verifier cannot tell the readings apart")
        else:
            side = "the scan's reading" if llr > 0 else "the transcript's reading"
            out.append(f"the verifier prefers {side} by {abs(llr):.1f} nats")
        own = _own_reading(f)
        if own is not None:
            out.append(f"the verifier itself reads {own}")
    if g("mark_scored"):
        llr = g("mark_llr")
        if abs(llr) < 0.05:
            out.append("the ink after the word fits either mark")
        else:
            side = "the scan's mark" if llr > 0 else "the transcript's mark"
            out.append(f"the ink after the word looks like {side} on this page, by {abs(llr):.1f} nats")
    if g("second_read"):
        if g("second_agrees_transcript"):
            out.append("a second reading agrees with the transcript")
        elif g("second_agrees_ocr"):
            out.append("a second reading agrees with the scan")
        elif g("second_is_lexicon"):
            out.append("a second reading shows a lexicon term")
        else:
            out.append("a second reading agrees with neither")
        if g("glyph_doubt"):
            out.append("Tesseract also weighed the transcript's characters")
    if g("case_only"):
        out.append("case only")
    elif g("punct_only"):
        out.append("punctuation or spacing only")
    if g("restores_balance"):
        out.append("the scan's bracket or quote balances the line")
    if g("o_pattern") and not g("t_pattern"):
        out.append("the scan's reading matches an identifier pattern")
    elif g("t_pattern") and not g("o_pattern"):
        out.append("the transcript's reading matches an identifier pattern")
    if g("o_in_lexicon") and not g("t_in_lexicon"):
        out.append("the scan's reading is a lexicon term")
    elif g("t_in_lexicon") and not g("o_in_lexicon"):
        out.append("the transcript's reading is a lexicon term")
    if g("t_near_term"):
        out.append("the transcript's word is a near-miss of that term")
    if f.has("t_is_word") and not g("marks_only"):
        t_ok, o_ok = g("t_is_word"), g("o_is_word")
        if t_ok and o_ok:
            out.append("both readings are words")
        elif o_ok:
            out.append("the transcript's reading is not a word")
        elif t_ok:
            out.append("the scan's reading is not a word")
    if g("lookalike_digit_in_transcript"):
        out.append("a digit among the transcript's letters (a typing slip)")
    if g("lookalike_digit_in_scan"):
        out.append("a digit/letter look-alike on the scan's side (OCR noise)")
    if g("lookalike_letters"):
        out.append("letters OCR confuses (rn/m, cl/d)")
    if g("word_read_as_number"):
        out.append("a word read as a number")
    if g("repeats_neighbour"):
        out.append("the transcript repeats the word beside it")
    if abs(g("context_llr")) >= 1:
        side = "the scan's" if g("context_llr") > 0 else "the transcript's"
        out.append(f"the neighbouring words favour {side} word")
    if g("rarity") >= 2:
        out.append("the scan's word is far rarer")
    if g("o_garbled"):
        out.append("the scan's reading has symbols in it (OCR noise)")
    if g("marks_only"):
        out.append("marks, not words")
    if f.has("word_share") and not g("marks_only"):
        out.append(f"{g('span_words'):.0f} word(s), {g('word_share'):.0%} of them words")
    if g("all_numbers"):
        out.append("numbers only")
    if g("at_alignment_edge"):
        out.append("at the edge of the transcribed text")
    if g("near_page_edge"):
        out.append("near the page's edge")
    if g("crosses_line"):
        out.append("runs over a line break")
    conf = _conf(f)
    if conf:
        out.append(conf)
    if f.score is not None:
        out.append(f"P(transcript wrong) {f.score:.2f}")
    return out


def message(f: Finding) -> str:
    """The finding's message with its reasons: ``what (reason; reason; ...)``."""
    why = reasons(f)
    return f"{f.message} ({'; '.join(why)})" if why else f.message
