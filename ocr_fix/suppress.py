"""Findings a project has already judged: fingerprints, baselines and accepted spellings.

A **fingerprint** names a finding by what it is about, not by where it sits: its kind,
the transcript text, the words around it, and what the scan reads there. Offsets,
line numbers and severities are left out, so editing another part of the file (which
moves every later finding) or recalibrating severities keeps a judged finding judged,
while changing the words at the finding (fixing it, or breaking it differently) does
not. The same text in the same context twice is two findings with one fingerprint;
a baseline counts them.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ocr_fix.model import Finding

__all__ = ["CONTEXT_WORDS", "FINGERPRINT_KEY", "Baseline", "fingerprint"]

#: Words of context taken on each side of a finding. Three tell apart repeated phrases
#: in typed documents while an edit four words away still leaves the finding matched.
CONTEXT_WORDS = 3
#: Key of the fingerprint in SARIF ``partialFingerprints``; the version changes when
#: what goes into a fingerprint does.
FINGERPRINT_KEY = "ocrFixContext/v1"

_REACH = 400  # characters searched for context words on each side


def _squash(text: str) -> str:
    return " ".join(text.split())


def context(text: str, start: int, end: int, words: int = CONTEXT_WORDS) -> tuple[str, str]:
    """Up to ``words`` whitespace-separated words before ``start`` and after ``end``.

    A span that begins or ends inside a word takes the rest of that word as context
    (``34-197845`` with the span ``4``: before ``3``, after ``-197845``).
    """
    before = text[max(0, start - _REACH) : start]
    after = text[end : end + _REACH]
    head = before.split()
    tail = after.split()
    return " ".join(head[-words:] if words else []), " ".join(tail[:words])


def fingerprint(f: Finding, text: str) -> str:
    """A stable name for finding ``f`` of a transcript whose text is ``text``."""
    parts = [f.kind.value]
    if f.transcript is not None:
        before, after = context(text, f.transcript.start, f.transcript.end)
        parts += [_squash(f.transcript.text), before, after]
    if f.scan is not None:
        parts.append(_squash(f.scan.text))
    if f.transcript is None and f.scan is None:
        parts.append(f.suggestion)
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()
    return digest[:24]


@dataclass(frozen=True)
class Baseline:
    """Fingerprints of accepted findings, counted per transcript path (as reported)."""

    counts: Counter[tuple[str, str]]

    @classmethod
    def of(cls, items: Iterable[tuple[str, str]]) -> Baseline:
        return cls(Counter(items))

    def __len__(self) -> int:
        return sum(self.counts.values())

    def filter(self, path: str, findings: Sequence[Finding], text: str) -> tuple[list[Finding], int]:
        """``findings`` of the transcript at ``path`` minus those in the baseline, and
        how many were dropped. Each baseline entry suppresses one finding."""
        left = Counter({fp: n for (p, fp), n in self.counts.items() if p == path})
        kept: list[Finding] = []
        for f in findings:
            fp = fingerprint(f, text)
            if left[fp] > 0:
                left[fp] -= 1
            else:
                kept.append(f)
        return kept, len(findings) - len(kept)
