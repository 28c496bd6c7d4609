"""Editorial marks of a transcript (TEI ``<gap/>``, ``<unclear>``) applied to findings.

An editor who wrote ``<unclear>`` or ``<gap/>`` has already said the transcript does not
claim to read the page there; a disagreement with the scan at that place is not a
transcript error but a place to look. Such findings become ``info`` with the feature
``editorial_gap`` / ``editorial_unclear`` set (the report renders the reason from it);
nothing else changes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from ocr_fix.model import Finding, Severity
from ocr_fix.readers import Mark

__all__ = ["apply_marks"]

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
