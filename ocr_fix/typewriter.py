"""Typewriter substitutes: letters a typewriter lacked, typed as other letters.

Typists without the key wrote ``ae``/``oe``/``ue`` for ``ä``/``ö``/``ü``, ``ss`` for
``ß``, and a plain letter followed (or preceded) by an apostrophe or a backtick for an
accented one (``e'`` for ``é``, ``a`` for ``à``); on many machines capitals had no
accents at all (``ETE`` for ``ÉTÉ``). A transcript and a scan that differ only by such
substitutes are the same word: not a slip of the transcriber but a choice — a diplomatic
transcript keeps what the page shows, a normalised one modernises it. Checking reports
them as their own class, saying which side has the substitute.

:func:`substitute_of` answers the question for two readings; nothing here is specific
to a document.
"""

from __future__ import annotations

import unicodedata
from typing import Literal

__all__ = ["Side", "substitute_of"]

#: Which reading has the typewriter form.
Side = Literal["transcript", "scan"]

#: Letter -> what a typewriter without it shows (the first is the usual one).
_DIGRAPHS = {"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue"}
_MARKS = "'\u2019`\u00b4"


def _plain(ch: str) -> str:
    """``ch`` without its accents (``é`` -> ``e``); ``ch`` itself when it has none."""
    base = unicodedata.normalize("NFD", ch)
    return "".join(c for c in base if not unicodedata.combining(c)) or ch


def _typed(word: str) -> str:
    """The word as a typewriter without accented keys and umlauts shows it."""
    out: list[str] = []
    for ch in word:
        if ch in _DIGRAPHS:
            out.append(_DIGRAPHS[ch])
        else:
            out.append(_plain(ch))
    return "".join(out)


def _unmarked(word: str) -> str:
    """The typed form with apostrophes and backticks used as accents removed."""
    return "".join(ch for ch in word if ch not in _MARKS)


def _has_native(word: str) -> bool:
    return any(ch in _DIGRAPHS or _plain(ch) != ch for ch in word)


def substitute_of(transcript: str, scan: str) -> Side | None:
    """``"scan"`` when the scan's reading is the transcript's word typed without the
    letters a typewriter lacked (``Strasse`` for ``Straße``, ``e'te'`` for ``été``),
    ``"transcript"`` the other way round, None when they differ otherwise (or not at all).
    Case must agree letter for letter where both sides have the letter."""
    if transcript == scan or not transcript or not scan:
        return None
    pairs: tuple[tuple[str, str, Side], ...] = ((transcript, scan, "scan"), (scan, transcript, "transcript"))
    for native, typed, side in pairs:
        if not _has_native(native) or _has_native(typed):
            continue
        want = _typed(native)
        same = typed == want or _unmarked(typed) == want or _unmarked(typed) == _unmarked(want)
        if same and typed != native:
            return side
    return None
