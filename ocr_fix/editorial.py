"""Editorial marks: what a transcriber writes where the page cannot or may not be read.

Two sources, two policies:

* **Structured marks** of an XML transcript (TEI ``<gap/>``, ``<unclear>``, read by
  :mod:`ocr_fix.readers`): the editor has said the transcript does not claim to read the
  page there, so a disagreement with the scan is not a transcript error but a place to
  look. Such findings become ``info`` with the feature ``editorial_gap`` /
  ``editorial_unclear`` set (the report renders the reason from it) — :func:`apply_marks`.
* **Text marks** of a plain or markdown transcript (configurable, ``editorial-marks``):
  ``[illegible]``, ``[sic]``, ``[?]``, ``[…]``, ``[redacted]`` and runs of ``█`` or ``X``
  standing for withheld text. Each is aligned like any other transcript text — so it
  stands in for whatever the scan shows at its place (the illegible word, the black bar
  read as noise, nothing at all) — and no finding that touches one is reported: not the
  mark against the scan's words, not the scan's words as missing beside it
  (:func:`drop_marked`). ``[sic]`` also vouches for the word before it (the original's
  spelling, kept on purpose), so the lexicon-only checks (``variant``, ``nonword``) leave
  that word alone. A text mark is literal text, matched in any case, or ``re:PATTERN``, a
  regular expression matched as written.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache

from ocr_fix.errors import UsageError
from ocr_fix.model import Finding, Kind, Severity
from ocr_fix.readers import Mark

__all__ = ["DEFAULT_EDITORIAL_MARKS", "Marks", "apply_marks", "compile_marks", "drop_marked"]

_SOFT = {"gap": "editorial_gap", "unclear": "editorial_unclear"}


def _touches(mark: Mark, start: int, end: int) -> bool:
    if mark.start == mark.end:  # a gap: findings at the point, or over it
        return start <= mark.start <= end
    if start == end:
        return mark.start < start < mark.end
    return start < mark.end and mark.start < end


def apply_marks(findings: Iterable[Finding], marks: Iterable[Mark]) -> list[Finding]:
    """``findings`` with those at an ``unclear`` / ``gap`` mark lowered to info."""
    soft = [m for m in marks if m.kind in _SOFT]
    out: list[Finding] = []
    for f in findings:
        t = f.transcript
        hit = next((m for m in soft if t is not None and _touches(m, t.start, t.end)), None)
        if hit is None or f.severity is Severity.INFO:
            out.append(f)
            continue
        out.append(replace(f.with_features(**{_SOFT[hit.kind]: 1.0}), severity=Severity.INFO))
    return out


# ------------------------------------------------------------------ text marks

#: The marks a transcription guide usually prescribes. ``XXX`` needs three letters so
#: a Roman numeral (``XX``) stays a word; ``█`` counts from one. A run of ``~`` is the
#: placeholder of two ground-truth conventions found in the realdata: the UNLV/ISRI sets
#: write a character outside their code set as ``~`` (``Caf~~`` for ``Café``) and the
#: tapuscorpus writes a handwritten word as ``~~~``; both were three of the 13 false
#: alarms of the realdata audit before they were marks.
DEFAULT_EDITORIAL_MARKS: tuple[str, ...] = (
    "[illegible]",
    "[sic]",
    "[?]",
    "[…]",
    "[...]",
    "[redacted]",
    r"re:█+",
    r"re:(?<![^\W_])[Xx]{3,}(?![^\W_])",
    r"re:~+",
)

_SIC = "[sic]"
_LEXICON_ONLY = frozenset({Kind.VARIANT, Kind.NONWORD})


@dataclass(frozen=True)
class Marks:
    """The compiled marks: one alternation, and the literal ``[sic]`` when declared."""

    pattern: re.Pattern[str] | None
    sic: bool

    def spans(self, text: str) -> list[tuple[int, int]]:
        """``(start, end)`` of every mark in ``text``, in order, not overlapping."""
        if self.pattern is None:
            return []
        return [m.span() for m in self.pattern.finditer(text) if m.end() > m.start()]


@lru_cache(maxsize=32)
def compile_marks(marks: tuple[str, ...]) -> Marks:
    """Compile ``marks``; a bad ``re:`` pattern is a :class:`UsageError` naming it."""
    parts: list[str] = []
    for mark in marks:
        if mark.startswith("re:"):
            try:
                re.compile(mark[3:])
            except re.error as exc:
                raise UsageError(f"editorial mark {mark!r} is not a regular expression ({exc})") from None
            parts.append(f"(?:{mark[3:]})")
        elif mark:
            parts.append(f"(?i:{re.escape(mark)})")
    sic = any(m.casefold() == _SIC for m in marks)
    return Marks(re.compile("|".join(parts)) if parts else None, sic)


def _touches_span(start: int, end: int, spans: Sequence[tuple[int, int]], text: str) -> bool:
    """Whether ``[start, end)`` overlaps a mark, or (empty: an omission) sits next to
    one with nothing but spaces between."""
    for a, b in spans:
        if start < b and a < end:
            return True
        if start == end and (text[b:start].isspace() or text[end:a].isspace() or start in (a, b)):
            return True
    return False


def _word_before(text: str, at: int) -> tuple[int, int]:
    end = at
    while end > 0 and text[end - 1].isspace():
        end -= 1
    start = end
    while start > 0 and not text[start - 1].isspace():
        start -= 1
    return start, end


def drop_marked(findings: Sequence[Finding], text: str, marks: Marks) -> list[Finding]:
    """``findings`` of a transcript reading ``text`` without those on an editorial mark
    (or, for the lexicon-only kinds, on the word a ``[sic]`` vouches for)."""
    spans = marks.spans(text)
    if not spans:
        return list(findings)
    vouched = [_word_before(text, a) for a, b in spans if marks.sic and text[a:b].casefold() == _SIC]
    kept: list[Finding] = []
    for f in findings:
        t = f.transcript
        if t is not None and _touches_span(t.start, t.end, spans, text):
            continue
        if t is not None and f.kind in _LEXICON_ONLY and any(t.start < b and a < t.end for a, b in vouched):
            continue
        kept.append(f)
    return kept
