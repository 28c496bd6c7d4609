"""Which way up a page is: quarter turns read off the ink, without Tesseract.

Two cheap tests on a page's ink mask (255 = ink), both from the shape of typed lines:

* **sideways** (:func:`is_sideways`): typed lines make the row profile (ink per row) of
  an upright page alternate between lines and gaps, while its column profile is flat;
  turned 90 degrees it is the other way round. The contrast of a profile is its squared
  coefficient of variation over the inked span, taken at the best tilt within
  :data:`TILT` degrees (a sideways page may also be skewed).
* **upside down** (:func:`is_upside_down`): in Latin type, ascenders and capitals put far
  more ink above a line's x-height band than descenders put below it (in English text
  about three times as much). Turned 180 degrees the excess sits below.

Neither test is sure on every page (a table, a few words, a page of capitals), so the
engine treats their answer as the first guess and lets the readings decide: when the
reading of the page so oriented goes wrong, the half turn is read too and the better
reading kept. ``rotation`` is always counter-clockwise degrees, as ``np.rot90``
turns: the page image is turned by it before reading.
"""

from __future__ import annotations

import cv2
import numpy as np

__all__ = ["is_sideways", "is_upside_down", "map_back", "turn"]

#: Degrees of tilt the sideways test allows for.
TILT = 10.0
#: The column profile must be this much more contrasted than the row profile.
SIDEWAYS_MARGIN = 1.5
#: Ink below the lines must outweigh ink above them by this factor to call a page upside down.
UPSIDE_DOWN_MARGIN = 1.3
#: Rows within this many letter heights of an x-height band are its ascenders or descenders.
REACH = 0.6


def turn(img: np.ndarray, rotation: int) -> np.ndarray:
    """``img`` turned ``rotation`` degrees counter-clockwise (a multiple of 90)."""
    k = (rotation // 90) % 4
    return np.ascontiguousarray(np.rot90(img, k)) if k else img


def map_back(x: float, y: float, rotation: int, shape: tuple[int, int]) -> tuple[float, float]:
    """A point of the turned image back in the page as given (``shape`` = its height,
    width). Coordinates are continuous (pixel edges), so box corners map to box corners."""
    h, w = shape
    k = (rotation // 90) % 4
    if k == 1:
        return w - y, x
    if k == 2:
        return w - x, h - y
    if k == 3:
        return y, h - x
    return x, y


def _contrast(profile: np.ndarray) -> float:
    nz = np.flatnonzero(profile > 0)
    if nz.size < 4:
        return 0.0
    span = profile[nz[0] : nz[-1] + 1]
    mean = float(span.mean())
    return float(span.var()) / (mean * mean) if mean > 0 else 0.0


def _best_contrast(mask: np.ndarray) -> float:
    h, w = mask.shape
    best = 0.0
    for angle in np.arange(-TILT, TILT + 1e-9, 2.0):
        m = cv2.getRotationMatrix2D((w / 2.0, h / 2.0), float(angle), 1.0)
        rot = cv2.warpAffine(mask, m, (w, h), flags=cv2.INTER_LINEAR, borderValue=0)
        best = max(best, _contrast(rot.sum(axis=1)))
    return best


def is_sideways(mask: np.ndarray) -> bool:
    """True when the text lines of ``mask`` (a small float32 ink mask, ~500 px) run
    vertically."""
    if float(mask.sum()) == 0.0:
        return False
    rows = _best_contrast(mask)
    cols = _best_contrast(np.ascontiguousarray(mask.T))
    return cols > SIDEWAYS_MARGIN * rows


def is_upside_down(mask: np.ndarray, letter: float) -> bool:
    """True when ``mask`` (ink = nonzero, lines level; capitals ``letter`` pixels high)
    has clearly more ink just below its lines' x-height bands than just above them.

    The bands are the rows holding at least half the ink of the fullest row within a
    letter height (so lines whose ascenders and descenders touch stay apart, as on a
    blurred or small scan); each other inked row within :data:`REACH` letters of a band
    counts above or below the band it is nearer. (Cutting lines at rows of no ink ran
    lines together on 12 of 62 upright test pages, and called them upside down.)
    """
    profile = (mask > 0).sum(axis=1).astype(np.float32)
    if profile.max() <= 0:
        return False
    w = max(2, round(letter))
    local = cv2.dilate(profile.reshape(-1, 1), np.ones((2 * w + 1, 1), np.uint8)).ravel()
    core = (profile >= 0.5 * local) & (profile > 0.02 * profile.max())
    rows = np.flatnonzero(core)
    if rows.size == 0:
        return False
    starts = rows[np.r_[True, np.diff(rows) > 1]]
    ends = rows[np.r_[np.diff(rows) > 1, True]]
    others = np.flatnonzero(~core & (profile > 0))
    nxt = np.searchsorted(starts, others)  # the first band starting below each row
    big = np.iinfo(np.int64).max // 2
    to_top = np.where(nxt < len(starts), starts[np.minimum(nxt, len(starts) - 1)] - others, big)
    to_bottom = np.where(nxt > 0, others - ends[np.maximum(nxt - 1, 0)], big)
    near = np.minimum(to_top, to_bottom) <= max(2, round(REACH * letter))
    ink = profile[others]
    above = float(ink[near & (to_top < to_bottom)].sum())
    below = float(ink[near & (to_top >= to_bottom)].sum())
    return below > UPSIDE_DOWN_MARGIN * above and below > 0
