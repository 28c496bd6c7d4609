"""Which reading of a page to keep, decided by measuring the readings themselves.

One fixed chain of clean-up steps cannot suit every page: the median filter that helps a
dusty page eats faint type, the threshold that rescues faint type breaks on a photocopy.
So a page is read once the cheap way (:func:`ocr_fix.scans.prepare` with the engine's
settings).

Pages whose small text was scaled up (``Prepared.scale`` > 1) are also read
``unsmoothed`` -- without the median filter and blur -- whatever the first reading's
measures, and the better of the two by :func:`measure`'s score goes on: on pages scanned
small, the smoothing after the upscale removes JPEG blocks and toner specks but smears
type that was blurred before it was scanned. On the 15 upscaled pages measured (10 of
the degradation benchmark's blurred and JPEG pages, 5 real EHRI pages at 72-110 dpi)
the score picked the reading with fewer errors, or one as good, on every one: e.g. a
blurred 110 dpi page 0.021 CER unsmoothed against 0.034, a 120 dpi JPEG 0.003 smoothed
against 0.012, the real pages 0.026 / 0.015 / 0.007 / 0.034 unsmoothed against 0.027 /
0.017 / 0.010 / 0.040. Only those pages pay for a second reading.

Only when the reading so far *went wrong* by its own measures (:func:`went_wrong`) are
other readings tried, in this order, stopping at the first that reads well:

1. ``turned``: the page turned the way Tesseract's orientation detection (OSD) says,
   when it says so with confidence (typed pages that read badly are often upside down);
   OSD is only asked when the reading's confidence or dictionary share failed
   (:func:`reads_as_text`): a page read confidently into words is upright;
2. ``restore``: flattened paper, stretched ink, specks dropped, binarised, upscaled to a
   good x-height (``Preprocess.restore``);
3. ``plain``: Tesseract with its own defaults on the page exactly as given -- the
   safety net: ocr-fix never keeps a reading that its measures say is clearly worse
   than the plain engine's (a page wrongly turned included).

The best-scoring reading is kept (:func:`measure`); ``plain`` and ``turned`` must beat
the others by :data:`PLAIN_MARGIN`, because Tesseract's defaults read typed archival
pages worse on average (README, "Measured"), OSD is not always right, and a small
difference in score is noise.

A reading's measures: the words' mean confidence, for English the share of word
characters in dictionary words (:class:`ocr_fix.lexicon.Dictionary`), and the characters
share of the page's letter-sized marks inside the words read
(:func:`ocr_fix.scans.letter_spots`). The score
adds up the characters of known words, each weighted by its confidence,
takes off :data:`UNKNOWN_PENALTY` times its doubt (1 - confidence) for every character of
an unknown word (names score nothing, junk read confidently costs little, junk read
doubtfully costs), and :data:`JUNK_PENALTY` for every character of a token that is no
word at all (``|``, ``_``, ``~``: what Tesseract reads in
bars, borders and specks).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import cv2
import numpy as np

from ocr_fix.errors import OcrFixError
from ocr_fix.model import Word
from ocr_fix.orientation import turn
from ocr_fix.scans import Prepared, Preprocess, prepare

__all__ = ["Quality", "Reading", "better", "measure", "read_page", "reads_as_text", "went_wrong"]

#: A first reading with a mean word confidence below this went wrong (clean typed pages:
#: 88-95; real EHRI pages 64-94).
MIN_CONFIDENCE = 80.0
#: ... or, for English, with fewer of its characters in dictionary words than this.
MIN_KNOWN = 0.75
#: ... or when fewer than this share of the letter-sized marks on the page lie inside
#: the words it read (faint type read only where the light was good; specks), marks
#: outside the words counted only where they lie in rows (:func:`covered`).
MIN_COVERAGE = 0.9
#: Pages showing fewer letter-sized marks than this (a few lines, a blank page) keep their
#: first reading: there is too little text to measure a reading by, or to gain.
MIN_LETTERS = 200
UNKNOWN_PENALTY = 0.5
JUNK_PENALTY = 0.5
#: ``plain`` (and ``turned``, which rests on OSD) is kept only when its score beats the
#: best other reading by this factor.
PLAIN_MARGIN = 1.1
#: OSD confidence at or above which its orientation is taken (typed pages score 7-20
#: for the right answer; wrong answers on upright pages scored 0.4 and 2.3).
OSD_CONFIDENT = 5.0

_ALNUM = re.compile(r"[^\W_]", re.UNICODE)
_NUMBER = re.compile(r"^[\W_]*\d[\d.,:/-]*[\W_]*$")


@dataclass(frozen=True, slots=True)
class Quality:
    """A reading measured by itself (no ground truth)."""

    words: int
    mean_confidence: float
    known_share: float | None  # None when no dictionary applies (not English)
    score: float
    coverage: float | None = None  # share of the page's letter-sized marks inside words read
    letters: int = 0  # letter-sized marks on the page (0: not counted)


def measure(
    words: Sequence[Word],
    known: Callable[[str], bool] | None,
    spots: np.ndarray | None = None,
    letter: float = 0.0,
) -> Quality:
    """Measures of a reading; ``known`` tells dictionary words (None: not English);
    ``spots`` are the centres of the letter-sized marks on the page (None: unknown), in
    the words' pixel space, and ``letter`` the letter height there (see :func:`covered`)."""
    score = 0.0
    chars = 0
    known_chars = 0
    confs: list[float] = []
    for w in words:
        conf = max(0.0, w.conf) / 100.0
        if w.conf >= 0:
            confs.append(w.conf)
        if not _ALNUM.search(w.text):
            score -= JUNK_PENALTY * len(w.text)
            continue
        # Every character counts, punctuation too: a treatment that loses the stops and
        # commas must not win on its letters alone.
        n = len(w.text)
        chars += n
        ok = _NUMBER.match(w.text) is not None or (known(w.text) if known is not None else True)
        if ok:
            known_chars += n
        score += n * conf if ok else -n * (1.0 - conf) * UNKNOWN_PENALTY
    mean = sum(confs) / len(confs) if confs else 0.0
    share = (known_chars / chars if chars else 0.0) if known is not None else None
    letters = 0 if spots is None else len(spots)
    coverage = covered(spots, words, letter) if spots is not None and letters >= MIN_LETTERS else None
    return Quality(len(words), mean, share, score, coverage, letters)


def covered(spots: np.ndarray, words: Sequence[Word], letter: float = 0.0, cell: int = 4) -> float:
    """Share of ``spots`` (x, y) inside some word's box (grown by a pixel or two).

    With ``letter`` (the letter height, pixels), a mark outside every word counts as
    missed only with at least :data:`ROW_NEIGHBOURS` other missed marks beside it on its
    line (within :data:`ROW_REACH` letter heights along it, half a letter height
    across): the letters of words a reading lost lie in rows, while specks on the paper
    lie apart, and no other reading covers them. The bundled first page (speckled
    paper): 49 of its 444 marks lay outside the words read, 14 of them in such rows, so
    its coverage is 0.968, not 0.890, and it no longer pays for the restored and the
    plain readings (1.9 CPU-s, 4 % of the document's cold check), which covered not
    one mark more and lost to it. The degradation benchmark reads the same on every cell
    (faint type and speckled photocopies still get their restored reading)."""
    if len(spots) == 0:
        return 1.0
    xs = (spots[:, 0] // cell).astype(np.int64)
    ys = (spots[:, 1] // cell).astype(np.int64)
    grid = np.zeros((int(ys.max()) + 2, int(xs.max()) + 2), bool)
    for w in words:
        b = w.box
        grid[max(0, b.y0 // cell - 1) : b.y1 // cell + 2, max(0, b.x0 // cell - 1) : b.x1 // cell + 2] = True
    inside = grid[ys, xs]
    if letter <= 0 or inside.all():
        return float(inside.mean())
    return 1.0 - float(_in_rows(spots[~inside], letter).sum()) / len(spots)


#: A mark outside the words is a missed letter with this many other missed marks beside
#: it on its line, within this many letter heights along the line (a word or two).
ROW_NEIGHBOURS = 2
ROW_REACH = 3.0


def _in_rows(points: np.ndarray, letter: float) -> np.ndarray:
    """Which of ``points`` (x, y) have :data:`ROW_NEIGHBOURS` others within
    :data:`ROW_REACH` letter heights horizontally and half a letter height vertically."""
    step = max(1.0, letter / 4.0)
    gx = (points[:, 0] / step).astype(np.int64)
    gy = (points[:, 1] / step).astype(np.int64)
    counts = np.zeros((int(gy.max()) + 1, int(gx.max()) + 1), np.float32)
    np.add.at(counts, (gy, gx), 1.0)
    kx = 2 * round(ROW_REACH * letter / step) + 1
    ky = 2 * round(0.5 * letter / step) + 1
    near = cv2.boxFilter(counts, -1, (kx, ky), normalize=False, borderType=cv2.BORDER_CONSTANT)
    return np.asarray(near[gy, gx] - 1.0 >= ROW_NEIGHBOURS)


def went_wrong(q: Quality) -> bool:
    """True when a reading's own measures say it should not be trusted as it is (only on
    pages with enough text to tell, :data:`MIN_LETTERS`)."""
    if q.letters < MIN_LETTERS:
        return False
    return (
        q.mean_confidence < MIN_CONFIDENCE
        or (q.known_share is not None and q.known_share < MIN_KNOWN)
        or (q.coverage is not None and q.coverage < MIN_COVERAGE)
    )


def reads_as_text(q: Quality) -> bool:
    """True when a reading's words are confident and (English) mostly dictionary words:
    whatever else went wrong with it, the page was not read turned. A page read upside
    down or sideways comes out as junk of low confidence; one that went wrong only by
    :data:`MIN_COVERAGE` (marks on the page outside the words read: faint type, specks)
    is upright, so Tesseract's orientation detection is not asked about it (on the
    bundled first page, a speckled background, that saved 0.74 CPU-s, 2 % of the
    document's plain Tesseract time, for the same reading)."""
    return q.mean_confidence >= MIN_CONFIDENCE and (q.known_share is None or q.known_share >= MIN_KNOWN)


def better(a: Quality, b: Quality, margin: float = 1.0) -> bool:
    """``a`` scores more than ``margin`` times ``b``."""
    return a.score > margin * b.score if b.score > 0 else a.score > b.score


@dataclass(frozen=True, slots=True)
class Reading:
    """The reading kept for a page and how it was chosen."""

    prepared: Prepared
    words: tuple[Word, ...]
    variant: str  # first | unsmoothed | turned | restore | plain
    quality: Quality
    tried: tuple[str, ...]  # every variant read, in order


ReadFn = Callable[[Prepared, bool], tuple[Word, ...]]
OsdFn = Callable[[np.ndarray], "tuple[int, float] | None"]


def confirmed_rotation(prepared: Prepared, osd: OsdFn) -> int | None:
    """The rotation to read a page at when the ink-shape tests think it is not upright:
    what OSD says about the page as given, when it is confident; else only the sideways
    part of the guess (the upside-down test is the less sure one). None: keep
    ``prepared`` as it is."""
    as_given = turn(prepared.image, (360 - prepared.rotation) % 360)
    found = osd(as_given)
    if found is not None and found[1] >= OSD_CONFIDENT:
        rotation = found[0] % 360
    elif prepared.guess in (90, 270):
        rotation = prepared.rotation if prepared.rotation in (90, 270) else prepared.guess
    else:
        rotation = 0
    return None if rotation == prepared.rotation else rotation


def read_page(
    original: np.ndarray,
    settings: Preprocess,
    first: Prepared,
    first_words: tuple[Word, ...],
    read: ReadFn,
    osd: OsdFn,
    known: Callable[[str], bool] | None,
    osd_done: bool = False,
) -> Reading:
    """Keep ``first_words`` (the reading of ``first``) unless it went wrong; then try the
    other readings (module docstring) and keep the best. ``read(prepared, plain)`` runs
    Tesseract on a prepared image (``plain``: with Tesseract's defaults); ``osd(image)``
    returns (counter-clockwise degrees to turn it upright, confidence) or None."""
    letter = first.measured.letter if first.measured is not None else 0.0
    q = measure(first_words, known, first.spots, letter)
    best = Reading(first, first_words, "first", q, ("first",))
    if not settings.adaptive:
        return best
    tried = ["first"]

    def consider(prepared: Prepared, variant: str, plain: bool = False, margin: float = 1.0) -> None:
        nonlocal best
        try:
            words = read(prepared, plain)
        except OcrFixError:  # a second reading that fails leaves the first standing
            tried.append(f"{variant}:failed")
            return
        quality = measure(words, known, first.spots, letter)
        tried.append(variant)
        if better(quality, best.quality, margin):
            best = Reading(prepared, words, variant, quality, ())

    if first.scale > 1.0 and settings.denoise and not settings.restore:
        # Small text was scaled up: the median and blur then either smooth away JPEG
        # blocks and specks or smear type already blurred before it was scanned small,
        # and only the readings tell which (bench/bench_degrade.py, module docstring).
        unsmoothed = replace(settings, denoise=False)
        consider(prepare(original, unsmoothed, rotation=first.rotation, like=first), "unsmoothed")
    if not went_wrong(best.quality):
        return Reading(best.prepared, best.words, best.variant, best.quality, tuple(tried))
    if settings.orient and not osd_done and not reads_as_text(best.quality):
        found = osd(first.image)
        if found is not None and found[1] >= OSD_CONFIDENT and found[0] % 360:
            turned = prepare(original, settings, rotation=(first.rotation + found[0]) % 360)
            consider(turned, "turned", margin=PLAIN_MARGIN)
    if went_wrong(best.quality):
        restore = replace(settings, restore=True, denoise=False)
        consider(prepare(original, restore, rotation=best.prepared.rotation, like=best.prepared), "restore")
    if settings.safety and went_wrong(best.quality):
        upright = Preprocess(
            grey=True,
            deskew=False,
            denoise=False,
            upscale=False,
            mask=False,
            orient=False,
            adaptive=False,
            safety=False,
        )
        # The page exactly as given, as plain Tesseract reads it: the net also catches a
        # wrong turn (OSD is not always right).
        consider(prepare(original, upright, rotation=0), "plain", plain=True, margin=PLAIN_MARGIN)
    return Reading(best.prepared, best.words, best.variant, best.quality, tuple(tried))
