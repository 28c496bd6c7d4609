"""Ask the image: the verifier's features for each disagreement.

A second, independent recogniser (:mod:`ocr_fix.verifier`, a CTC line model) scores the
competing readings of a disputed place on the same crop of the scan. For a substitution
the readings are the scan's (as read, and as suggested) and the transcript's, each as
the whole run of scan words would read with it; the feature ``verifier_llr`` is the
log-likelihood of the better scan reading minus the transcript's, in nats (positive:
the image says the transcript is wrong). ``verifier_fit`` is the scan reading's
log-likelihood per character: how well the OCR's text explains the crop at all (OCR
noise on a speck or a stamp fits badly). For an omission only the fit is known.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

from ocr_fix.model import BBox, Finding, Kind, Page

if TYPE_CHECKING:
    pass

__all__ = ["Scorer", "readings", "verifier_features"]


class Scorer(Protocol):
    """What :mod:`ocr_fix.verifier`'s ``Verifier`` offers (structural)."""

    def score(self, queries: Sequence[Any]) -> list[tuple[float | None, ...]]: ...


def readings(f: Finding) -> tuple[str, ...] | None:
    """The candidate texts for ``f``'s crop: scan reading, suggested reading, transcript
    reading (substitutions); the scan reading alone (omissions); None when the finding
    has nothing to compare."""
    if f.scan is None or f.scan.bbox is None or not f.scan.text.strip():
        return None
    first = f.scan.text
    if f.kind is Kind.OMISSION:
        return (first,)
    if f.kind is not Kind.SUBSTITUTION or f.transcript is None:
        return None
    t, s = f.transcript.text, f.suggestion
    if s and s in first:
        transcript_view = first.replace(s, t, 1)
        suggested = first
    else:
        transcript_view, suggested = t, s or first
    if transcript_view == first and suggested == first:
        return None
    return (first, suggested, transcript_view)


def verifier_features(findings: Sequence[Finding], pages: Sequence[Page], verifier: Scorer) -> list[Finding]:
    """``findings`` with ``verifier_scored``, ``verifier_llr`` and ``verifier_fit`` added
    where the verifier could score the readings (one batched call for all)."""
    from ocr_fix.verifier import ReadingQuery

    by_number = {p.number: p for p in pages}
    asked: list[int] = []
    queries: list[Any] = []
    for i, f in enumerate(findings):
        cands = readings(f)
        if cands is None or f.scan is None or f.scan.page not in by_number:
            continue
        box: BBox = f.scan.bbox  # type: ignore[assignment]
        asked.append(i)
        queries.append(ReadingQuery(page=by_number[f.scan.page], box=box, candidates=cands))
    out = list(findings)
    if not queries:
        return out
    for i, scores in zip(asked, verifier.score(queries), strict=True):
        out[i] = findings[i].with_features(**_features(findings[i], scores))
    return out


def _features(f: Finding, scores: tuple[float | None, ...]) -> dict[str, float]:
    first = scores[0]
    chars = max(len(f.scan.text.replace(" ", "")) if f.scan else 1, 1)
    if f.kind is Kind.OMISSION:
        if first is None:
            return {"verifier_scored": 0.0}
        return {"verifier_scored": 1.0, "verifier_fit": round(first / chars, 4)}
    scan_side = [s for s in scores[:2] if s is not None]
    transcript = scores[2] if len(scores) > 2 else None
    if not scan_side or transcript is None:
        return {"verifier_scored": 0.0}
    return {
        "verifier_scored": 1.0,
        "verifier_llr": round(max(scan_side) - transcript, 3),
        "verifier_fit": round(max(scan_side) / chars, 4),
    }
