"""Typography folding: what a typewriter (and Tesseract) produces (see :mod:`ocr_fix.normalize`)."""

from __future__ import annotations

import unicodedata

from ocr_fix.normalize.markdown import Folded, strip_markdown, strip_plain
from ocr_fix.normalize.spacing import join_letter_spacing
from ocr_fix.transcript import Transcript

# ---------------------------------------------------------------------------------
# Typography

_FOLD: dict[str, str] = {
    "\u2014": "--",  # em dash: the typist's dash
    "\u2015": "--",  # horizontal bar
    "\u2e3a": "--",  # two-em dash
    "\ufe58": "--",  # small em dash
    "\u2013": "-",  # en dash
    "\u2012": "-",  # figure dash
    "\u2010": "-",  # hyphen
    "\u2011": "-",  # non-breaking hyphen
    "\u2212": "-",  # minus sign
    "\ufe63": "-",
    "\u2018": "'",
    "\u2019": "'",
    "\u201a": "'",
    "\u201b": "'",
    "\u2032": "'",
    "\u02bc": "'",
    "\u201c": '"',
    "\u201d": '"',
    "\u201e": '"',
    "\u201f": '"',
    "\u2033": '"',
    "\u2026": "...",
    "\u2025": "..",
    "\ufb00": "ff",
    "\ufb01": "fi",
    "\ufb02": "fl",
    "\ufb03": "ffi",
    "\ufb04": "ffl",
    "\ufb05": "st",
    "\ufb06": "st",
    "\u00b9": "1",
    "\u00b2": "2",
    "\u00b3": "3",
    "\u2028": "\n",
    "\u2029": "\n",
}
_FOLD.update({chr(0x2070 + d): str(d) for d in (0, 4, 5, 6, 7, 8, 9)})  # superscripts
_FOLD.update({chr(0x2080 + d): str(d) for d in range(10)})  # subscripts
_FOLD.update({chr(c): chr(c - 0xFEE0) for c in range(0xFF01, 0xFF5F)})  # fullwidth ASCII


def _fold_char(ch: str) -> str:
    mapped = _FOLD.get(ch)
    if mapped is not None:
        return mapped
    if ch in " \t\n\r":
        return ch
    cat = unicodedata.category(ch)
    if cat == "Zs":
        return " "  # no-break, thin, ideographic... spaces
    if cat == "Cf":
        return ""  # soft hyphen, zero-width space/joiners, BOM, direction marks
    return ch


def fold_typography(f: Folded) -> Folded:
    """NFC-compose, then fold typography to what a typewriter (and Tesseract) produces.

    A combining sequence composes onto its base: the composed character takes the base's
    origin and the last mark's end.
    """
    text, origin, ends = f.text, f.origin, f.ends
    chars: list[str] = []
    orgs: list[int] = []
    nds: list[int] = []
    k = 0
    n = len(text)
    while k < n:
        j = k + 1
        while j < n and unicodedata.combining(text[j]):
            j += 1
        group = text[k:j]
        composed = unicodedata.normalize("NFC", group) if (j - k > 1 or not group.isascii()) else group
        if len(composed) == j - k:
            pieces = [(composed[x], origin[k + x], ends[k + x]) for x in range(j - k)]
        else:
            pieces = [(ch, origin[k], ends[j - 1]) for ch in composed]
        for ch, o, e in pieces:
            for out in _fold_char(ch):
                chars.append(out)
                orgs.append(o)
                nds.append(e)
        k = j
    return Folded("".join(chars), (*orgs, origin[-1]), tuple(nds))


def fold_ocr_text(s: str) -> str:
    """The same typography fold for an OCR word or line (no positions needed)."""
    if s.isascii() and s.isprintable():
        return s  # nothing to compose or fold: every key of _FOLD is outside ASCII
    return fold_typography(Folded.identity(s)).text


def normalize_transcript(t: Transcript) -> Folded:
    """Markup stripped (Markdown only), typography folded, letter-spaced words joined
    (:mod:`.spacing`); origins index ``t.text``."""
    stripped = strip_markdown(t.text) if t.kind == "markdown" else strip_plain(t.text)
    return join_letter_spacing(fold_typography(stripped))
