"""The image's say on the mark after a word: a full stop, a comma, a colon or semicolon,
or none.

A mark is a few pixels: both recognisers are at their weakest there, and a speck, a
stain or a faint stroke on a photocopy reads as well as any full stop. What tells them
apart is the page itself. The marks its OCR read with confidence show, for that page's
typeface, size and degradation, what a full stop, a comma and the gap after an
unpunctuated word look like; a disputed mark is measured the same way and set against
them.

Definitions (all lengths in ``u``, the median height of the page's word boxes, so pages
at any resolution compare alike):

* :func:`measure` binarises the region from a word's box to the next word on its line
  (at most ``REACH`` u past the box, ``BELOW`` u under it), finds the band of the
  word's lower-case letters (the rows of its box inked at least half as much as the
  most inked row; the last is the baseline) and its letters (components reaching into
  the band's top quarter, at least 0.6 of the band high), and describes the ink after the
  last letter that starts no lower than just under the baseline (:class:`Ink`);
* :func:`page_model` measures up to ``SAMPLE`` confidently read words of each class on
  one page (:data:`MARKS` and ``""``, none); a class is known with at least ``MIN_REFS``;
* :meth:`PageMarks.log_likelihood` of an :class:`Ink` under a class: the share of the
  class's words with ink after them (add-one smoothed), times independent normal
  densities of the ink's depth, height, width, area and gap after the letter around the
  class's means, with the within-class spread pooled over the mark classes (floored at
  ``FLOOR``); under ``""`` ink is noise, spread four times as wide around the marks'
  mean (the page's own dust after words, where it had three or more, measured worse:
  held-out recall 0.913 against 0.928);
* :func:`mark_evidence`: ``mark_llr``, the log-likelihood of the ink under the scan's
  mark minus under the transcript's (clipped to ``CLIP``; positive: the image sides
  with the scan), and ``mark_scored`` 1, for a disagreement whose readings differ only
  in the mark at the end, where both marks are known on that page, or else on the
  document's pages with such a disagreement pooled (:func:`pooled`: a semicolon is rare
  on any one page); where the OCR read a letter more and no mark (a large typewriter
  full stop read as ``e``), the best other mark stands for the scan's.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from ocr_fix.errors import OcrFixError
from ocr_fix.model import BBox, Finding, Kind, Page, Word

__all__ = [
    "MARKS",
    "Ink",
    "MarkClass",
    "MarkReader",
    "PageMarks",
    "mark_evidence",
    "measure",
    "page_model",
    "pooled",
    "trailing_marks",
]

#: The marks measured: a full stop, a comma, a semicolon, a colon.
MARKS = (".", ",", ";", ":")
#: How far past a word's box its mark is looked for, and below it (a comma's tail), in
#: u: a typewriter's cell is about 0.6 u wide; a single-spaced next line starts about
#: 0.5 u under the baseline.
REACH = 1.0
BELOW = 0.4
#: Reference words measured per class and page (a page has 5-40 full stops and commas),
#: the fewest that make a class known, and the OCR confidence a reference needs.
SAMPLE = 40
MIN_REFS = 3
MIN_CONF = 90.0
#: The least within-class spread of each measure (depth, top, width, area, gap): a pixel
#: or two at 300 dpi, so that a page whose marks are all alike does not make every
#: small difference decisive.
FLOOR = np.array([0.06, 0.06, 0.06, 0.015, 0.06])
CLIP = 12.0
#: Ink smaller than this (in u²) is dust, not a mark: two or three pixels at 300 dpi.
DUST = 0.002
_LOG_2PI = float(np.log(2 * np.pi))


@dataclass(frozen=True, slots=True)
class Ink:
    """The ink after a word's last letter, relative to its baseline, in units ``u``.
    ``parts`` 0: none (the other fields are then 0)."""

    parts: int
    depth: float  # how far the lowest ink reaches below the baseline
    top: float  # how far the highest ink reaches above the baseline
    width: float
    area: float  # ink pixels / u²
    gap: float  # from the last letter's right edge to the ink's left edge

    def vector(self) -> np.ndarray:
        return np.array([self.depth, self.top, self.width, self.area, self.gap])


NO_INK = Ink(0, 0.0, 0.0, 0.0, 0.0, 0.0)


def trailing_marks(text: str) -> str:
    """The run of :data:`MARKS` that ends ``text`` (``""`` if none)."""
    end = len(text)
    while end > 0 and text[end - 1] in MARKS:
        end -= 1
    return text[end:]


def measure(gray: np.ndarray, box: BBox, limit: int, unit: float) -> Ink | None:
    """The ink after the last letter of the word in ``box`` of the greyscale page
    ``gray`` (page pixels), looked for up to ``limit`` (the next word's left edge, or
    the reach); None where no letter or no contrast is found."""
    import cv2

    h, w = gray.shape[:2]
    y0 = max(0, int(box.y0 - 0.1 * unit))
    y1 = min(h, int(box.y1 + BELOW * unit))
    x0 = max(0, int(box.x0))
    x1 = min(w, int(min(limit, box.x1 + REACH * unit)))
    if x1 - x0 < 2 or y1 - y0 < 2:
        return None
    region = np.ascontiguousarray(gray[y0:y1, x0:x1])
    if float(region.std()) < 8.0:
        return None
    _, mask = cv2.threshold(region, 0, 255, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)
    n, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    comps = stats[1:n]
    comps = comps[comps[:, cv2.CC_STAT_AREA] >= DUST * unit * unit]
    tops, hs = comps[:, cv2.CC_STAT_TOP], comps[:, cv2.CC_STAT_HEIGHT]
    lefts, bottoms = comps[:, cv2.CC_STAT_LEFT], tops + hs
    # The band of the word's lower-case letters: the rows of its box inked at least half
    # as much as the most inked row (ascenders, descenders and a comma's tail ink only a
    # few columns); its last row is the baseline. A letter reaches into the band's top
    # quarter and is at least 0.6 of the band high: a full stop, even a typewriter's
    # large one (half the band), does neither. Measured on the English EHRI and bundled
    # pages, the share of confidently read words with a full stop that showed ink after
    # the last letter: 0.88 with a third and half the band, 0.99 with these; of the
    # words without a mark, 0.05 and 0.06.
    top_row = max(0, int(box.y0) - y0)
    rows = mask[top_row : max(top_row + 1, int(box.y1) - y0), : max(1, int(box.x1) - x0)].sum(axis=1)
    if not rows.size or not rows.max():  # an inverted box leaves no rows; no ink, no band
        return None
    band = top_row + np.flatnonzero(rows >= 0.5 * rows.max())
    if len(band) < 2 or band[-1] + 1 - band[0] < 0.2 * unit:
        return None
    xline, baseline = float(band[0]), float(band[-1] + 1)
    xh = baseline - xline
    inside = lefts < box.x1 - x0
    letter = inside & (tops <= xline + xh / 4) & (hs >= 0.6 * xh)
    if not letter.any():
        return None
    last = float((lefts + comps[:, cv2.CC_STAT_WIDTH])[letter].max())
    after = (~letter) & (lefts >= last - 0.05 * unit) & (lefts <= last + REACH * unit)
    # Not the line above's descenders nor the line below's ascenders.
    after &= (tops <= baseline + 0.1 * unit) & (bottoms > xline)
    marks = comps[after]
    if not len(marks):
        return NO_INK
    top = float(marks[:, cv2.CC_STAT_TOP].min())
    bottom = float((marks[:, cv2.CC_STAT_TOP] + marks[:, cv2.CC_STAT_HEIGHT]).max())
    left = float(marks[:, cv2.CC_STAT_LEFT].min())
    right = float((marks[:, cv2.CC_STAT_LEFT] + marks[:, cv2.CC_STAT_WIDTH]).max())
    return Ink(
        len(marks),
        (bottom - baseline) / unit,
        (baseline - top) / unit,
        (right - left) / unit,
        float(marks[:, cv2.CC_STAT_AREA].sum()) / (unit * unit),
        (left - last) / unit,
    )


@dataclass(frozen=True, slots=True)
class MarkClass:
    """The confidently read words of one class on a page (or a document): how many were
    measured, how many had ink after them, and that ink's mean vector and sum of squared
    deviations (so that classes of several pages pool exactly)."""

    words: int
    inked: int
    mean: np.ndarray
    m2: np.ndarray

    @classmethod
    def of(cls, words: int, vectors: Sequence[np.ndarray]) -> MarkClass:
        if not vectors:
            return cls(words, 0, np.zeros(5), np.zeros(5))
        v = np.asarray(vectors)
        mean = v.mean(axis=0)
        return cls(words, len(v), mean, ((v - mean) ** 2).sum(axis=0))

    def merged(self, other: MarkClass) -> MarkClass:
        n = self.inked + other.inked
        if not n:
            return MarkClass(self.words + other.words, 0, self.mean, self.m2)
        delta = other.mean - self.mean
        mean = self.mean + delta * other.inked / n
        m2 = self.m2 + other.m2 + delta**2 * self.inked * other.inked / n
        return MarkClass(self.words + other.words, n, mean, m2)


@dataclass(frozen=True, slots=True)
class PageMarks:
    """What each mark looks like on one page, or pooled over a document's pages (see the
    module's definitions); ``unit`` is the page's (0 for a pool)."""

    unit: float
    classes: dict[str, MarkClass]

    def knows(self, mark: str) -> bool:
        c = self.classes.get(mark)
        return c is not None and c.words >= MIN_REFS and (mark == "" or c.inked >= MIN_REFS)

    def _known(self) -> list[MarkClass]:
        return [self.classes[m] for m in MARKS if self.knows(m)]

    def log_likelihood(self, ink: Ink, mark: str) -> float:
        """``ink``'s log-likelihood under ``mark`` (which :meth:`knows` must know)."""
        c = self.classes[mark]
        if not ink.parts:
            return float(np.log((c.words - c.inked + 1) / (c.words + 2)))
        known = self._known() or [c]
        spread = np.maximum(np.sqrt(sum(k.m2 for k in known) / sum(k.inked for k in known)), FLOOR)
        if mark == "":  # ink where no mark is: noise, spread wide around the marks
            mean, spread = np.mean([k.mean for k in known], axis=0), 4 * spread
        else:
            mean = c.mean
        z = (ink.vector() - mean) / spread
        density = -0.5 * float(z @ z) - float(np.log(spread).sum()) - 2.5 * _LOG_2PI
        return float(np.log((c.inked + 1) / (c.words + 2))) + density

    def as_json(self) -> dict[str, Any]:
        return {
            "unit": self.unit,
            "classes": {
                k: [c.words, c.inked, c.mean.tolist(), c.m2.tolist()] for k, c in self.classes.items()
            },
        }

    @classmethod
    def from_json(cls, data: Any) -> PageMarks:
        """The model :meth:`as_json` wrote; ValueError, KeyError or TypeError if it is
        not one."""
        classes = {
            str(k): MarkClass(int(w), int(n), np.array(mean, float), np.array(m2, float))
            for k, (w, n, mean, m2) in data["classes"].items()
        }
        if any(c.mean.shape != (5,) or c.m2.shape != (5,) for c in classes.values()):
            raise ValueError("not a mark model")
        return cls(float(data["unit"]), classes)


def pooled(models: Sequence[PageMarks]) -> PageMarks:
    """The classes of ``models`` (the pages of one document) pooled."""
    classes: dict[str, MarkClass] = {}
    for m in models:
        for k, c in m.classes.items():
            classes[k] = classes[k].merged(c) if k in classes else c
    return PageMarks(0.0, classes)


def _next_left(words: Sequence[Word], i: int, page_width: int) -> int:
    """The left edge of the word after ``words[i]`` on its line (the page's width if it
    is the last)."""
    w = words[i]
    nxt = [v.box.x0 for v in words if v.line == w.line and v.box.x0 >= w.box.x1 - 1 and v is not w]
    return min(nxt, default=page_width)


def _reference_class(word: Word) -> str | None:
    """The class a confidently read word of letters stands for, None if it is no
    reference (digits, quotes, brackets, several marks, a low confidence)."""
    if word.conf < MIN_CONF:
        return None
    mark = trailing_marks(word.text)
    core = word.text[: len(word.text) - len(mark)]
    if len(mark) > 1 or len(core) < 2 or not core.isalpha():
        return None
    return mark


def page_model(page: Page, gray: np.ndarray) -> PageMarks | None:
    """The marks of ``page`` (OCR words, page coordinates) measured on ``gray``, its
    image; None when the page has too few words to tell."""
    heights = [w.box.height for w in page.words if any(c.isalnum() for c in w.text)]
    if len(heights) < 10:
        return None
    unit = float(np.median(heights))
    words = sorted(page.words, key=lambda w: (w.line, w.box.x0))
    groups: dict[str, list[int]] = {}
    for i, w in enumerate(words):
        mark = _reference_class(w)
        if mark is not None:
            groups.setdefault(mark, []).append(i)
    classes: dict[str, MarkClass] = {}
    for mark, idx in groups.items():
        step = max(1, len(idx) // SAMPLE)
        inks = [
            measure(gray, words[i].box, _next_left(words, i, gray.shape[1]), unit)
            for i in idx[::step][:SAMPLE]
        ]
        got = [k for k in inks if k is not None]
        classes[mark] = MarkClass.of(len(got), [k.vector() for k in got if k.parts])
    return PageMarks(unit, classes)


def _last_word(page: Page, f: Finding) -> tuple[Word, int] | None:
    """The OCR word that ends ``f``'s scan span, with its next neighbour's left edge."""
    if f.scan is None or f.scan.bbox is None:
        return None
    b = f.scan.bbox
    line = sorted((w for w in page.words if w.line == f.scan.line), key=lambda w: w.box.x0)
    inside = [i for i, w in enumerate(line) if w.box.x0 >= b.x0 - 1 and w.box.x1 <= b.x1 + 1]
    if not inside:
        return None
    i = inside[-1]
    limit = line[i + 1].box.x0 if i + 1 < len(line) else page.width
    return line[i], limit


#: In place of the scan's mark: the mark the ink fits best, other than the transcript's.
UNREAD = "?"


def _disputed_marks(f: Finding) -> tuple[str, str] | None:
    """The transcript's and the scan's mark where ``f``'s readings differ only there;
    :data:`UNREAD` for the scan's where the OCR read one letter more than the
    transcript's word and no mark (``tierse`` for ``tiers``, ``Hollands`` for
    ``Holland``: a typewriter's large full stop read as a letter)."""
    if f.transcript is None or f.scan is None or f.kind is not Kind.SUBSTITUTION:
        return None
    t, o = f.transcript.text.strip(), f.scan.text.strip()
    tm, om = trailing_marks(t), trailing_marks(o)
    if len(tm) > 1 or len(om) > 1:
        return None
    tc, oc = t[: len(t) - len(tm)], o[: len(o) - len(om)]
    if not om and len(oc) == len(tc) + 1 and oc.startswith(tc) and tc.isalpha() and oc[-1].isalpha():
        return tm, UNREAD
    if tm == om or not f.feature("punct_only"):
        return None
    # A word whose letters the OCR misread has its marks judged apart (triage).
    return (tm, om) if tc == oc or f.feature("letters_misread") > 0 else None


#: Bumped when what :class:`MarkReader` caches would change for the same page.
CACHE_VERSION = 3

#: One disputed mark of a page: the OCR word that ends it, the next word's left edge,
#: the transcript's mark and the scan's.
Ask = tuple[Word, int, str, str]


class JsonCache(Protocol):
    """What :class:`ocr_fix.ocr.cache.OcrCache` offers here (structural)."""

    def get_json(self, key: str) -> Any: ...

    def put_json(self, key: str, data: Any) -> None: ...


def _ink_json(ink: Ink | None) -> list[float] | None:
    return None if ink is None else [ink.parts, ink.depth, ink.top, ink.width, ink.area, ink.gap]


def _ink_from_json(data: Any) -> Ink | None:
    if data is None:
        return None
    parts, *rest = data
    return Ink(int(parts), *(float(v) for v in rest))


@dataclass(frozen=True)
class MarkReader:
    """Reads a page's marks and its disputed inks off its image (``image``: the page's
    greyscale pixels, None if the engine has none; a page that cannot be read any more
    has nothing to measure), cached by the page's content, its OCR words and the
    questions: a warm rerun decodes no page for them."""

    image: Callable[[Page], np.ndarray | None]
    cache: JsonCache | None = None

    def _key(self, page: Page, asks: Sequence[Ask]) -> str:
        from ocr_fix.scans import content_key

        words = [[w.text, w.box.as_list(), w.conf, w.line] for w in page.words]
        items = [[w.box.as_list(), limit, tm, om] for w, limit, tm, om in asks]
        blob = json.dumps([CACHE_VERSION, content_key(page.ref), page.width, page.height, words, items])
        return hashlib.sha256(blob.encode()).hexdigest()

    def read(self, page: Page, asks: Sequence[Ask]) -> tuple[PageMarks | None, list[Ink | None]]:
        """The page's marks (None: too few words) and the ink of each ask (None where
        none can be measured)."""
        unread: tuple[PageMarks | None, list[Ink | None]] = (None, [None] * len(asks))
        try:
            key = self._key(page, asks) if self.cache is not None else None
        except OcrFixError:  # the page cannot be read any more: nothing to measure
            return unread
        hit = self.cache.get_json(key) if self.cache is not None and key is not None else None
        if isinstance(hit, dict):
            try:
                model = PageMarks.from_json(hit["model"]) if hit["model"] is not None else None
                inks = [_ink_from_json(v) for v in hit["inks"]]
                if len(inks) == len(asks):
                    return model, inks
            except (KeyError, TypeError, ValueError):
                pass  # not what this version writes: read the page again
        try:
            image = self.image(page)
        except OcrFixError:
            return unread
        if image is None:
            return unread
        gray = _scaled(image, page)
        model = page_model(page, gray) if gray is not None else None
        got: list[Ink | None] = [
            measure(gray, word.box, limit, model.unit) if gray is not None and model is not None else None
            for word, limit, _, _ in asks
        ]
        if self.cache is not None and key is not None:
            data = {"model": model.as_json() if model else None, "inks": [_ink_json(k) for k in got]}
            self.cache.put_json(key, data)
        return model, got


def mark_evidence(findings: Sequence[Finding], pages: Sequence[Page], reader: MarkReader) -> list[Finding]:
    """``findings`` with ``mark_scored`` and ``mark_llr`` (see the module's definitions)
    on each whose readings differ only in the mark at the end, where its page knows both
    marks, or else the pages of the document with such a finding pooled do (a page with
    no semicolon of its own). Only pages with such a finding are read."""
    by_number = {p.number: p for p in pages}
    asked: dict[int, list[tuple[int, Ask]]] = {}
    for i, f in enumerate(findings):
        marks = _disputed_marks(f)
        page = by_number.get(f.scan.page) if marks is not None and f.scan is not None else None
        last = _last_word(page, f) if page is not None else None
        if marks is not None and page is not None and last is not None:
            asked.setdefault(page.number, []).append((i, (last[0], last[1], *marks)))
    read = {n: reader.read(by_number[n], [a for _, a in items]) for n, items in asked.items()}
    document = pooled([m for m, _ in read.values() if m is not None])
    out = list(findings)
    for n, items in asked.items():
        model, inks = read[n]
        for (i, (_, _, tm, om)), ink in zip(items, inks, strict=True):
            if ink is None or model is None:
                continue
            llr = _llr(model, ink, tm, om)
            llr = _llr(document, ink, tm, om) if llr is None else llr
            if llr is None:
                continue
            out[i] = out[i].with_features(mark_scored=1.0, mark_llr=round(max(-CLIP, min(CLIP, llr)), 3))
    return out


def _llr(model: PageMarks, ink: Ink, tm: str, om: str) -> float | None:
    """``ink``'s log-likelihood under the scan's mark ``om`` (for :data:`UNREAD`, the
    best of the other marks ``model`` knows, counted only where it is higher) minus
    under the transcript's ``tm``; None when ``model`` does not know them."""
    if not model.knows(tm):
        return None
    if om == UNREAD:
        others = [m for m in ("", *MARKS) if m != tm and model.knows(m)]
        if not others:
            return None
        # Only for: the extra letter may be a real one the transcript dropped, which
        # says nothing about a mark.
        return max(0.0, max(model.log_likelihood(ink, m) for m in others) - model.log_likelihood(ink, tm))
    return model.log_likelihood(ink, om) - model.log_likelihood(ink, tm) if model.knows(om) else None


def _scaled(gray: np.ndarray, page: Page) -> np.ndarray | None:
    """``gray`` at the page's OCR coordinates (a PDF page rendered at another
    resolution is resized); None when the page has no size."""
    import cv2

    if page.width <= 0 or page.height <= 0:
        return None
    if gray.shape[:2] == (page.height, page.width):
        return gray
    return cv2.resize(gray, (page.width, page.height), interpolation=cv2.INTER_AREA)
