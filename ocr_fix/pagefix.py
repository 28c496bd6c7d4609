"""Dark marks on a page that are not type: found, reported, and painted over with paper.

Scanned archival pages carry large dark things beside the typing: the scanner bed showing
round a smaller or tilted page (black edges, the page's shadow), punch holes, redaction
bars, and the frames of rubber stamps. Left in, they dominate the ink mask: the skew
estimate follows a border's edge instead of the text lines, Otsu's threshold settles
between bed and paper, and Tesseract reads a bar as a row of ``|`` and ``_``. Each is
one connected component of the ink mask far larger than a letter, told apart by shape:

* **border**: touches the image edge, longer than :data:`BORDER_CHARS` letters, and
  dark (its median grey below :data:`BLACK`): an edge of the bed, with the page's shadow
  and any black edge joined to it. A shaded corner of unevenly lit paper is not that dark
  and stays (it holds text).
* **solid**: inside the page, at least :data:`SOLID_MIN_CHARS` letters high and wide,
  filling at least :data:`SOLID_FILL` of its minimum-area rectangle, dark: a punch hole or
  a blot; a solid that fills :data:`BAR_FILL` of its rectangle, is at least
  :data:`BAR_MIN_LENGTH` letters long and :data:`BAR_ASPECT` times as long as high (or
  fills :data:`BLOCK_FILL` of it, a block over several lines) is a **redaction bar** and
  is reported. Bars on neighbouring lines that touch, offset like stairs, form one
  solid that fills its rectangle poorly: it is cut into horizontal bands along its own
  tilt (:func:`_bands`), each judged alone.
* **frame**: at least :data:`FRAME_MIN_CHARS` letters high and wide but filling less than
  :data:`FRAME_FILL` of its rectangle: the outline of a stamp or a box. Frames are kept
  out of every measurement (only letter-sized components are measured) but not painted:
  a stamp's frame keeps Tesseract from reading its lettering as a line of text (painted
  over, a real despatch's untranscribed stamps were read and its CER against the
  transcript rose from 0.198 to 0.260).

Sizes are in units of the page's letter height (:func:`ocr_fix.scans.char_height`), so
the rules hold at any resolution.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

__all__ = ["Marks", "find_marks", "paint_over"]

#: A border component is longer than this many letter heights.
BORDER_CHARS = 6.0
#: Median grey (0-255) a border or solid must be darker than: scanner beds and
#: redaction bars are near black; shading and faint stamps are not.
BLACK = 90
SOLID_MIN_CHARS = 1.2
SOLID_FILL = 0.7
BAR_FILL = 0.82
BAR_MIN_LENGTH = 3.0
#: ... and at least this many times as long as it is high (a punch hole is round) ...
BAR_ASPECT = 2.0
#: ... or, of any shape, filling this share of its rectangle: a redaction block over
#: several lines (a round hole fills at most pi/4 of its square).
BLOCK_FILL = 0.9
FRAME_MIN_CHARS = 3.0
FRAME_FILL = 0.2
#: Rows of one bar keep their ends within this many letter heights of the row above (two
#: bars on neighbouring lines that touch differ by words).
BAND_STEP = 0.3
#: Strokes of type, even bold, are thinner than this many letter heights (a bar is not).
STROKE = 0.45
#: Pixels a mark is grown by before painting, to take its anti-aliased rim too.
GROW = 3


@dataclass(frozen=True, slots=True)
class Marks:
    """What :func:`find_marks` found. ``mask`` is 255 where paper is to be painted;
    ``redactions`` are the bars' boxes ``(x0, y0, x1, y1)`` (``x1``/``y1`` exclusive) in
    the pixels of the image searched."""

    mask: np.ndarray
    redactions: tuple[tuple[int, int, int, int], ...]
    border: int  # components of scanner bed / black edge / shadow
    solids: int  # punch holes, blots and bars
    frames: int  # stamp and box outlines

    @property
    def any(self) -> bool:
        """Anything to paint (frames are not painted)."""
        return bool(self.border or self.solids)


def find_marks(
    grey: np.ndarray,
    labels: np.ndarray,
    stats: np.ndarray,
    letter: float,
) -> Marks:
    """Classify the ink components (``labels``/``stats`` of
    ``cv2.connectedComponentsWithStats`` on the page's ink mask) that are no letters.

    ``letter`` is the page's letter height in pixels (> 0).
    """
    height, width = grey.shape[:2]
    unit = letter
    x, y, w, h, area = (stats[1:, i] for i in range(5))
    # Letters are about one unit high; only components twice that long are looked at.
    candidates = np.flatnonzero((np.maximum(w, h) >= 2.0 * unit) & (np.minimum(w, h) >= 0.5 * unit)) + 1
    edge = (x == 0) | (y == 0) | (x + w >= width) | (y + h >= height)
    mask = np.zeros((height, width), np.uint8)
    redactions: list[tuple[int, int, int, int]] = []
    border = solids = frames = 0
    for label in candidates:
        i = label - 1
        x0, y0, x1, y1 = int(x[i]), int(y[i]), int(x[i] + w[i]), int(y[i] + h[i])
        region = labels[y0:y1, x0:x1] == label
        points = cv2.findNonZero(region.astype(np.uint8))
        if points is None:
            continue
        (_, _), (rw, rh), _ = cv2.minAreaRect(points)
        short, long = sorted((max(rw, 1.0), max(rh, 1.0)))
        fill = float(area[i]) / (short * long)
        kind = ""
        if edge[i] and long >= BORDER_CHARS * unit:
            if _median_grey(grey, region, x0, y0) < BLACK:
                kind = "border"
        elif short >= FRAME_MIN_CHARS * unit and fill < FRAME_FILL:
            kind = "frame"
        elif short >= SOLID_MIN_CHARS * unit:
            # Letters touching a bar join its component (and may join two bars): open
            # them away (strokes are thinner than STROKE letters) and judge each solid
            # core on its own; only the cores are painted, the letters stay.
            k = max(3, int(STROKE * unit))
            core = cv2.morphologyEx(region.astype(np.uint8), cv2.MORPH_OPEN, np.ones((k, k), np.uint8))
            n, pieces, piece_stats, _ = cv2.connectedComponentsWithStats(core, connectivity=8)
            for j in range(1, n):
                if piece_stats[j, cv2.CC_STAT_AREA] < (SOLID_MIN_CHARS * unit) ** 2:
                    continue
                piece = pieces == j
                pts = cv2.findNonZero(piece.astype(np.uint8))
                (_, _), (cw, chh), _ = cv2.minAreaRect(pts)
                c_short, c_long = sorted((max(cw, 1.0), max(chh, 1.0)))
                c_fill = float(pts.shape[0]) / (c_short * c_long)
                if c_short < SOLID_MIN_CHARS * unit or _median_grey(grey, piece, x0, y0) >= BLACK:
                    continue
                if c_fill >= SOLID_FILL:
                    shapes = [(pts, c_fill, c_short, c_long)]
                else:  # bars on neighbouring lines that touch: one band each
                    shapes = _bands(piece.astype(np.uint8), unit)
                for shape, s_fill, s_short, s_long in shapes:
                    solids += 1
                    xy = shape.reshape(-1, 2)
                    mask[y0 + xy[:, 1], x0 + xy[:, 0]] = 255
                    if _redaction(s_fill, s_short, s_long, unit):
                        bx, by, bw, bh = cv2.boundingRect(shape)
                        redactions.append((x0 + bx, y0 + by, x0 + bx + bw, y0 + by + bh))
            continue
        if not kind:
            continue
        if kind == "frame":
            frames += 1
            continue
        border += 1
        mask[y0:y1, x0:x1][region] = 255
    if border or solids:
        mask = np.asarray(cv2.dilate(mask, np.ones((2 * GROW + 1, 2 * GROW + 1), np.uint8)), np.uint8)
    return Marks(mask=mask, redactions=tuple(redactions), border=border, solids=solids, frames=frames)


def _redaction(fill: float, short: float, long: float, unit: float) -> bool:
    """A dark solid (its fill of its levelled rectangle, sides in pixels) is a redaction:
    a long bar, or a block filled too fully to be a punch hole."""
    if long < BAR_MIN_LENGTH * unit:
        return False
    return (fill >= BAR_FILL and long >= BAR_ASPECT * short) or fill >= BLOCK_FILL


def _tilt(piece: np.ndarray, max_angle: float = 10.0) -> float:
    """Degrees by which the straight edges of a solid's outline ``piece`` (uint8 mask)
    are turned from level (counter-clockwise positive, as the rotation that levels them):
    the length-weighted median of its outline's edges, each folded into a quarter turn
    (a bar's ends are square to its sides); those over ``max_angle`` are no bar's."""
    contours, _ = cv2.findContours(piece, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    angles: list[float] = []
    weights: list[float] = []
    for contour in contours:
        poly = cv2.approxPolyDP(contour, 2.0, True).reshape(-1, 2).astype(np.float64)
        d = np.roll(poly, -1, axis=0) - poly
        length = np.hypot(d[:, 0], d[:, 1])
        folded = (np.degrees(np.arctan2(d[:, 1], d[:, 0])) + 45.0) % 90.0 - 45.0
        keep = np.abs(folded) <= max_angle
        angles.extend(folded[keep])
        weights.extend(length[keep])
    if not weights:
        return 0.0
    order = np.argsort(angles)
    cum = np.cumsum(np.asarray(weights)[order])
    return float(np.asarray(angles)[order][np.searchsorted(cum, cum[-1] / 2.0)])


def _bands(piece: np.ndarray, unit: float) -> list[tuple[np.ndarray, float, float, float]]:
    """Split a dark core that is no single solid -- bars on neighbouring lines that touch,
    offset like stairs -- into horizontal bands, levelled by the core's own tilt.

    Rows (levelled) whose extent stays within :data:`BAND_STEP` letters of the previous
    row's form a band; bands lower than half a letter (where two bars overlap) add their
    rows to the bands above and below them. Returns, for each band at least
    :data:`SOLID_MIN_CHARS` letters high that fills :data:`SOLID_FILL` of its levelled
    rectangle, its points (as ``cv2.findNonZero`` gives them), fill, height and length.
    """
    a = np.radians(_tilt(piece))
    xy = cv2.findNonZero(piece).reshape(-1, 2)
    x = xy[:, 0].astype(np.float64)
    y = xy[:, 1].astype(np.float64)
    u = x * np.cos(a) + y * np.sin(a)
    rows = np.round(y * np.cos(a) - x * np.sin(a)).astype(np.int64)
    rows -= rows.min()
    n = int(rows.max()) + 1
    lo = np.full(n, np.inf)
    hi = np.full(n, -np.inf)
    np.minimum.at(lo, rows, u)
    np.maximum.at(hi, rows, u)
    step = BAND_STEP * unit
    runs: list[list[int]] = []  # [first row, last row]
    for r in range(n):
        if not np.isfinite(lo[r]):
            continue
        last = runs[-1][1] if runs else -2
        if last == r - 1 and abs(lo[r] - lo[last]) <= step and abs(hi[r] - hi[last]) <= step:
            runs[-1][1] = r
        else:
            runs.append([r, r])
    tall = [i for i, (r0, r1) in enumerate(runs) if r1 - r0 + 1 >= 0.5 * unit]
    out: list[tuple[np.ndarray, float, float, float]] = []
    for k, i in enumerate(tall):
        r0, r1 = runs[i]
        left, right = float(lo[r0 : r1 + 1].min()), float(hi[r0 : r1 + 1].max())
        # The rows between this band and the next ones (too low to be bands: where two
        # bars overlap, their anti-aliased edges) belong to it too, within its ends.
        r0 = runs[tall[k - 1]][1] + 1 if k > 0 else 0
        r1 = runs[tall[k + 1]][0] - 1 if k + 1 < len(tall) else n - 1
        inside = (rows >= r0) & (rows <= r1) & (u >= left - 1) & (u <= right + 1)
        height, length = float(r1 - r0 + 1), right - left + 1
        fill = float(inside.sum()) / (height * length)
        if height >= SOLID_MIN_CHARS * unit and fill >= SOLID_FILL:
            out.append((xy[inside].reshape(-1, 1, 2).astype(np.int32), fill, height, length))
    return out


def _median_grey(grey: np.ndarray, region: np.ndarray, x0: int, y0: int) -> float:
    h, w = region.shape
    values = grey[y0 : y0 + h, x0 : x0 + w][region]
    if values.size > 20000:  # a sample is as good a median and much cheaper
        values = values[:: values.size // 20000]
    return float(np.median(values))


def paint_over(grey: np.ndarray, marks: Marks, ink: np.ndarray) -> np.ndarray:
    """A copy of ``grey`` with the marks painted in the page's paper tone (the median of
    the pixels neither ink nor marked)."""
    if not marks.any:
        return grey
    paper_pixels = grey[(ink == 0) & (marks.mask == 0)]
    if paper_pixels.size > 200000:
        paper_pixels = paper_pixels[:: paper_pixels.size // 200000]
    paper = int(np.median(paper_pixels)) if paper_pixels.size else 255
    out = grey.copy()
    out[marks.mask > 0] = paper
    return out
