"""Text under a redaction bar is withheld, not missing.

A declassified page shows black bars where text was withheld; the OCR finds and reports
them per page (:attr:`ocr_fix.model.Page.redactions`, :mod:`ocr_fix.pagefix`) and reads
nothing there (the bars are painted in the paper's tone before reading), or, when the
plain reading was kept, bar noise (``|``, ``_``). A transcript may write a mark there
(``[redacted]``, ``XXXX``: :mod:`ocr_fix.editorial` already drops those), nothing, or the
withheld text itself, copied from an unredacted original. None of these is a
transcription error, so a disagreement the scan explains by a bar is lowered to ``info``
with the feature ``under_redaction`` (1.0) -- :func:`mark_withheld`, after the evidence
model, so no later stage raises it again. A finding is *at a bar* when:

* its scan words (substitution, omission) lie mostly inside a bar
  (:data:`INSIDE`: bar noise, fragments of letters the bar cut), or end at one on their
  line -- within :data:`REACH` of their height of its edge, overlapping it vertically --
  (the visible part of a word the bar cuts);
* it is an insertion (transcript text the scan does not show) and the place where that
  text would be on the scan -- the gap between the scan word the finding names and the
  word before or after it in reading order, a line's remainder and the space between
  lines included -- holds most of a bar (:data:`IN_GAP`).

Nothing here reads pixels: boxes only, so it is pure and cheap.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace

from ocr_fix.model import BBox, Finding, Kind, Page, Severity, Word

__all__ = ["FEATURE", "INSIDE", "IN_GAP", "REACH", "at_bar", "inside_share", "mark_withheld", "withheld"]

#: The feature set on a finding lowered because its place on the scan is a redaction bar.
FEATURE = "under_redaction"
#: Share of a scan box's area inside bars at which its words are bar noise.
INSIDE = 0.5
#: A scan box within this share of its height of a bar's edge, on the bar's line, ends at it.
REACH = 0.5
#: Share of a bar's area inside the place an inserted text would be at which the bar is there.
IN_GAP = 0.5

_SCAN_KINDS = frozenset({Kind.SUBSTITUTION, Kind.OMISSION})


def _area(b: BBox) -> int:
    return max(0, b.width) * max(0, b.height)


def _overlap(a: BBox, b: BBox) -> int:
    return max(0, min(a.x1, b.x1) - max(a.x0, b.x0)) * max(0, min(a.y1, b.y1) - max(a.y0, b.y0))


def inside_share(box: BBox, bars: Iterable[BBox]) -> float:
    """Share of ``box``'s area inside ``bars`` (their overlaps with it summed, capped at 1:
    bars of one page do not overlap, :mod:`ocr_fix.pagefix` merges them)."""
    area = _area(box)
    if area == 0:
        return 0.0
    return min(1.0, sum(_overlap(box, bar) for bar in bars) / area)


def _ends_at(box: BBox, bar: BBox) -> bool:
    """``box`` is on ``bar``'s line (half its height overlaps the bar's rows) and one of
    its ends lies within :data:`REACH` of its height of the bar's edge."""
    rows = min(box.y1, bar.y1) - max(box.y0, bar.y0)
    if rows < 0.5 * box.height:
        return False
    reach = REACH * box.height
    return bar.x0 - reach <= box.x1 and box.x0 <= bar.x1 + reach


def at_bar(box: BBox, bars: Sequence[BBox]) -> bool:
    """The scan words in ``box`` are explained by a bar: mostly inside bars, or ending at one."""
    return inside_share(box, bars) >= INSIDE or any(_ends_at(box, bar) for bar in bars)


def _gap(a: Word, b: Word, page: Page) -> list[BBox]:
    """The page between word ``a`` and the next word ``b`` in reading order: the rest of
    ``a``'s line, the space between the lines and the start of ``b``'s line (or, on one
    line, the space between them), each a line's height high round the words."""
    pad = max(a.box.height, b.box.height) // 2
    if a.line == b.line:
        return [BBox(a.box.x1, min(a.box.y0, b.box.y0) - pad, b.box.x0, max(a.box.y1, b.box.y1) + pad)]
    return [
        BBox(a.box.x1, a.box.y0 - pad, page.width, a.box.y1 + pad),
        BBox(0, a.box.y1, page.width, b.box.y0),
        BBox(0, b.box.y0 - pad, b.box.x0, b.box.y1 + pad),
    ]


def _bar_in(regions: Sequence[BBox], bar: BBox) -> bool:
    # Regions of one gap touch but hardly overlap: summing counts a bar about once.
    return sum(_overlap(r, bar) for r in regions) >= IN_GAP * _area(bar) > 0


def _insertion_at_bar(box: BBox, page: Page) -> bool:
    """A bar fills the place beside the scan word at ``box`` (before or after it)."""
    words = page.words
    at = next((i for i, w in enumerate(words) if w.box == box), None)
    if at is None:
        return False
    pairs = [(words[i], words[i + 1]) for i in (at - 1, at) if i >= 0 and i + 1 < len(words)]
    ends: list[BBox] = []  # text before the first word read or after the last
    first, last = words[0].box, words[-1].box
    if at == 0:
        ends += [BBox(0, 0, page.width, first.y0), BBox(0, first.y0, first.x0, first.y1)]
    if at == len(words) - 1:
        ends += [BBox(last.x1, last.y0, page.width, last.y1), BBox(0, last.y1, page.width, page.height)]
    if ends and any(_bar_in(ends, bar) for bar in page.redactions):
        return True
    return any(_bar_in(_gap(a, b, page), bar) for a, b in pairs for bar in page.redactions)


def withheld(f: Finding, pages: dict[int, Page]) -> bool:
    """Whether the scan explains finding ``f`` by a redaction bar (module docstring)."""
    if f.scan is None or f.scan.bbox is None:
        return False
    page = pages.get(f.scan.page)
    if page is None or not page.redactions:
        return False
    if f.kind in _SCAN_KINDS:
        return at_bar(f.scan.bbox, page.redactions)
    if f.kind is Kind.INSERTION:
        return _insertion_at_bar(f.scan.bbox, page)
    return False


def mark_withheld(findings: Iterable[Finding], pages: Sequence[Page]) -> list[Finding]:
    """``findings`` with those at a redaction bar lowered to ``info`` and marked with the
    feature :data:`FEATURE`; the others unchanged."""
    by_number = {p.number: p for p in pages if p.redactions}
    out: list[Finding] = []
    for f in findings:
        if by_number and withheld(f, by_number):
            out.append(replace(f.with_features(**{FEATURE: 1.0}), severity=Severity.INFO))
        else:
            out.append(f)
    return out
