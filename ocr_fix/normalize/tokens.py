"""Tokens of the folded text and their comparison keys."""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

from ocr_fix.model import TranscriptSpan
from ocr_fix.normalize.markdown import Folded
from ocr_fix.transcript import Transcript

# ---------------------------------------------------------------------------------
# Tokens and keys


@dataclass(frozen=True)
class Token:
    """A whitespace-separated word of the folded text with its raw span (end exclusive)."""

    text: str
    start: int
    end: int
    index: int


_WORD = re.compile(r"\S+")


def tokenize(f: Folded) -> list[Token]:
    return [
        Token(m.group(), f.origin[m.start()], f.ends[m.end() - 1], i)
        for i, m in enumerate(_WORD.finditer(f.text))
    ]


def _is_word_char(ch: str) -> bool:
    return ch.isalnum()


def word_key(token_text: str) -> str:
    """Comparison key: leading/trailing punctuation stripped, case and inner marks kept.

    ``(Konoye's,`` -> ``Konoye's``; ``H-197715,`` -> ``H-197715``; ``i.e.,`` -> ``i.e``.
    A token that is nothing but punctuation (``--``, ``...``) keys as itself so that
    different punctuation tokens do not compare equal.
    """
    start, end = 0, len(token_text)
    while start < end and not _is_word_char(token_text[start]):
        start += 1
    while end > start and not _is_word_char(token_text[end - 1]):
        end -= 1
    return token_text[start:end] if start < end else token_text


def loose_key(s: str) -> str:
    """Casefolded alphanumerics only: equal loose keys = a case/punctuation-only difference."""
    # lower(), not casefold(): casefold makes ß "ss", a letter difference, not one of case.
    return "".join(ch for ch in s.lower() if ch.isalnum())


def token_span(
    transcript: Transcript, folded: Folded, first: Token, lead: int, last: Token, trail: int
) -> TranscriptSpan:
    """Transcript span from ``lead`` folded characters into ``first`` to ``trail``
    characters before the end of ``last``, mapped back to the raw file (markup inside
    a token, such as ``<sup>4</sup>E-197715``, is skipped correctly).

    Tokens do not store their folded offset; origins never decrease, so the token's
    first folded character is found by bisection on its raw start."""
    fa = bisect.bisect_left(folded.origin, first.start) + lead
    fb = bisect.bisect_left(folded.origin, last.start) + len(last.text) - trail
    start, end = folded.raw_span(fa, max(fa, fb))
    return transcript.span(start, end)
