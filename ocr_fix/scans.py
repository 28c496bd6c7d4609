"""Page scans: which pages the user gave, reading them, and cleaning them up for OCR.

Users point at a folder of scans, a multi-page TIFF or a PDF as readily as at one PNG,
so every entry point first expands its arguments into :class:`PageRef` values (one per
page, numbered in the order the pages will be read) and everything downstream works on
pages, never on files.
"""

from __future__ import annotations

import hashlib
import math
import re
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, UnidentifiedImageError

from ocr_fix.errors import BadInput, InputNotFound
from ocr_fix.model import PageRef

#: What Pillow reads here (its wheels bundle OpenJPEG and libwebp): PNG, JPEG, TIFF, JPEG
#: 2000 (archival masters), WebP, BMP and the Netpbm formats.
IMAGE_SUFFIXES = frozenset(
    {
        ".png",
        ".jpg",
        ".jpeg",
        ".tif",
        ".tiff",
        ".jp2",
        ".j2k",
        ".jpf",
        ".jpx",
        ".webp",
        ".bmp",
        ".pnm",
        ".pbm",
        ".pgm",
        ".ppm",
    }
)
PDF_SUFFIXES = frozenset({".pdf"})
SCAN_SUFFIXES = IMAGE_SUFFIXES | PDF_SUFFIXES
NO_PAGES = "no page images (PNG, JPEG, TIFF, JPEG 2000, WebP, BMP, PNM, PDF)"

_DIGITS = re.compile(r"(\d+)")


def natural_key(name: str) -> tuple[tuple[int, int, str], ...]:
    """Sort key for file names in the order people number pages: ``page2`` before
    ``page10``; digit runs compare as numbers (``007`` equals ``7``),
    the rest case-insensitively, then as written so the order is total."""
    parts = [p for p in _DIGITS.split(name) if p]
    key = [(0, int(p), "") if p.isdigit() else (1, 0, p.casefold()) for p in parts]
    return (*key, (2, 0, name))


#: Most pixels one page may have once decoded or rendered: Pillow's own decompression-bomb
#: threshold (89.5 Mpx, 89 MB as 8-bit grey; a US-letter page at 300 dpi has 8.4 Mpx, an
#: A0 sheet at 240 dpi 89 Mpx). Larger images are refused; PDF pages are rendered at a
#: lower resolution to fit, down to MIN_PDF_DPI.
MAX_PIXELS = 89_478_485
#: Lowest resolution a PDF page is rendered at to fit MAX_PIXELS (1 px per point): a page
#: that does not fit even then is refused with its number.
MIN_PDF_DPI = 72.0
#: Most pages one file (PDF or multi-page TIFF) may contribute: a 400-byte PDF can
#: declare a million pages.
MAX_PAGES = 10_000


def expand_scans(paths: Sequence[Path]) -> list[PageRef]:
    """Turn files and directories into pages numbered 1.. in reading order.

    A directory contributes its images and PDFs in natural name order (``page2`` before
    ``page10``; not recursively; other
    files are ignored, because scan folders often hold notes or checksums, and so are
    hidden files such as the temporary files of a writer still at work). A file named
    explicitly must be a supported scan. Multi-page files contribute their pages in place.
    """
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if not path.exists():
            raise InputNotFound(path)
        if path.is_dir():
            found = sorted(
                (
                    p
                    for p in path.iterdir()
                    if p.is_file() and p.suffix.lower() in SCAN_SUFFIXES and not p.name.startswith(".")
                ),
                key=lambda p: natural_key(p.name),
            )
            if not found:
                raise BadInput(NO_PAGES, path)
            files.extend(found)
        elif path.suffix.lower() in SCAN_SUFFIXES:
            files.append(path)
        else:
            raise BadInput(f"not a page image ({', '.join(sorted(SCAN_SUFFIXES))})", path)
    if not files:
        raise BadInput(NO_PAGES)
    refs: list[PageRef] = []
    for path in files:
        count = _page_count(path)
        for frame in range(count):
            refs.append(PageRef(path=path, frame=frame, number=len(refs) + 1, multi=count > 1))
    return refs


def _page_count(path: Path) -> int:
    if path.suffix.lower() in PDF_SUFFIXES:
        import pypdfium2 as pdfium

        try:
            pdf = pdfium.PdfDocument(str(path))
        except pdfium.PdfiumError as exc:
            raise BadInput(f"cannot read PDF ({exc})", path) from None
        try:
            count = len(pdf)
        finally:
            pdf.close()
        if count == 0:
            raise BadInput("PDF has no pages", path)
        if count > MAX_PAGES:
            raise BadInput(f"PDF has {count:,} pages, over the limit of {MAX_PAGES:,} per file", path)
        return count
    try:
        with _open_image(path) as im:
            _check_pixels(im, path, 1)
            count = int(getattr(im, "n_frames", 1))
        if count > MAX_PAGES:
            raise BadInput(f"image has {count:,} frames, over the limit of {MAX_PAGES:,} per file", path)
        if count == 1:
            # Checks the whole file (PNG chunk CRCs, JPEG markers) without decoding, so
            # a truncated page fails now rather than after minutes of OCR.
            with _open_image(path) as im:
                im.verify()
        return count
    except Image.DecompressionBombError as exc:
        raise BadInput(f"image too large to open safely ({_reason(exc)})", path) from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise BadInput(f"not a readable image ({_reason(exc)})", path) from None


def load_image(ref: PageRef, dpi: int = 300, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """Read one page as an 8-bit greyscale array; PDF pages are rendered at ``dpi``, or
    lower if that would exceed ``max_pixels``. An image over ``max_pixels`` is refused
    before it is decoded."""
    if ref.path.suffix.lower() in PDF_SUFFIXES:
        return _render_pdf_page(ref, dpi, max_pixels)
    try:
        with _open_image(ref.path) as im:
            if ref.frame:
                im.seek(ref.frame)
            _check_pixels(im, ref.path, ref.number, max_pixels)
            im.load()
            # np.array copies once; converting an "L" image to "L" and copying the
            # array again cost a third of the PNG decode itself.
            return np.array(im if im.mode == "L" else _to_grey(im), dtype=np.uint8)
    except FileNotFoundError:
        raise InputNotFound(ref.path) from None
    except Image.DecompressionBombError as exc:
        raise BadInput(f"image too large to open safely ({_reason(exc)})", ref.path) from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError) as exc:
        raise BadInput(f"not a readable image ({_reason(exc)})", ref.path) from None


def _open_image(path: Path) -> Image.Image:
    """``Image.open`` without Pillow's DecompressionBombWarning: the size is checked by
    :func:`_check_pixels` against a limit passed per call, so Pillow's global limit is
    neither relied on nor changed (above twice that limit Pillow itself refuses, with
    DecompressionBombError, which callers report the same way)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        return Image.open(path)


def _check_pixels(im: Image.Image, path: Path, page: int, max_pixels: int = MAX_PIXELS) -> None:
    width, height = im.size
    if width * height > max_pixels:
        raise BadInput(
            f"page {page} is {width}x{height} pixels ({width * height / 1e6:.0f} Mpx), over the limit "
            f"of {max_pixels / 1e6:.0f} Mpx; scale it down",
            path,
        )


def pdf_render_dpi(
    width_pt: float, height_pt: float, dpi: float, max_pixels: int = MAX_PIXELS
) -> float | None:
    """The resolution a PDF page of ``width_pt`` x ``height_pt`` points is rendered at:
    ``dpi``, or the highest lower one whose bitmap stays within ``max_pixels``; None when
    even MIN_PDF_DPI would exceed it."""

    def pixels(d: float) -> float:
        return (math.ceil(width_pt * d / 72.0) + 1) * (
            math.ceil(height_pt * d / 72.0) + 1
        )  # pdfium may round up

    if pixels(dpi) <= max_pixels:
        return dpi
    fit = 72.0 * math.sqrt(max_pixels / max(width_pt * height_pt, 1e-9))
    fit = math.floor(fit * 100) / 100
    while fit >= MIN_PDF_DPI and pixels(fit) > max_pixels:  # ceil() rounding at the edges
        fit -= 0.01
    return fit if fit >= MIN_PDF_DPI else None


def _to_grey(im: Image.Image) -> Image.Image:
    if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
        # Transparent regions are paper: composite on white before dropping alpha.
        rgba = im.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("L")
    if im.mode in ("I;16", "I;16B", "I;16L", "I"):
        arr = np.asarray(im, dtype=np.float64)
        top = arr.max() or 1.0
        return Image.fromarray((arr * (255.0 / top)).astype(np.uint8), mode="L")
    return im.convert("L")


def _render_pdf_page(ref: PageRef, dpi: int, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(str(ref.path))
    except pdfium.PdfiumError as exc:
        raise BadInput(f"cannot read PDF ({exc})", ref.path) from None
    try:
        if ref.frame >= len(pdf):
            raise BadInput(f"PDF has no page {ref.frame + 1}", ref.path)
        page = pdf[ref.frame]
        try:
            width_pt, height_pt = page.get_size()
            fit = pdf_render_dpi(width_pt, height_pt, dpi, max_pixels)
            if fit is None:
                raise BadInput(
                    f"PDF page {ref.frame + 1} is {width_pt:.0f}x{height_pt:.0f} pt: even at "
                    f"{MIN_PDF_DPI:.0f} dpi it would exceed the limit of {max_pixels / 1e6:.0f} Mpx",
                    ref.path,
                )
            bitmap = page.render(scale=fit / 72.0, grayscale=True)
            return np.asarray(bitmap.to_pil().convert("L"), dtype=np.uint8).copy()
        finally:
            page.close()
    finally:
        pdf.close()


def _reason(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def content_key(ref: PageRef) -> str:
    """Identity of a page's pixels for the OCR cache: the file's bytes plus the frame.

    Hashing content rather than path and mtime lets a renamed or copied scan hit the cache
    and a file rewritten in place miss it. Within one process a file whose size, mtime
    and inode are unchanged is not hashed again (a page's key is wanted for the cache
    lookup, the cache write and its second reading).
    """
    try:
        st = ref.path.stat()
    except FileNotFoundError:
        raise InputNotFound(ref.path) from None
    return _content_key(str(ref.path), ref.frame, st.st_size, st.st_mtime_ns, st.st_ino)


@lru_cache(maxsize=4096)
def _content_key(path: str, frame: int, size: int, mtime_ns: int, inode: int) -> str:
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
    except FileNotFoundError:
        raise InputNotFound(Path(path)) from None
    digest.update(f"#frame={frame}".encode())
    return digest.hexdigest()


@dataclass(frozen=True, slots=True)
class Preprocess:
    """Which clean-up steps run before Tesseract.

    Defaults are the combination that measured best on the bundled synthetic scans and on
    8 real typewritten archival scans (EHRI; see bench/bench_ocr.py). CER with psm 4,
    all defaults vs one step switched off (bundled / EHRI): defaults 1.88 % / 8.50 %;
    no denoise 1.99 / 9.79; no deskew (EHRI) 8.79; no upscale (EHRI, two 72-96 dpi pages)
    13.79; binarise on (EHRI) 10.58, so Tesseract's own Otsu is kept and binarisation is
    available but off. Upscaling only pays below ~21 px capitals: scaling 25 px text to
    30 px made the bundled pages worse (2.23 %).
    """

    grey: bool = True
    deskew: bool = True
    denoise: bool = True
    binarise: bool = False
    upscale: bool = True  # bring low-resolution scans up to ~300 dpi text size
    char_height: float = 30.0  # px: capital height that small text (< 70 % of it) is scaled up to


@dataclass(frozen=True, slots=True)
class Prepared:
    """A preprocessed image and the factor that maps its pixels back to the original."""

    image: np.ndarray
    scale: float  # prepared pixel = original pixel * scale
    angle: float  # degrees the page was rotated by to deskew it


MAX_UPSCALE = 4.0


def preprocess(img: np.ndarray, settings: Preprocess = Preprocess()) -> np.ndarray:
    """Clean a page for OCR; see :func:`prepare` for the coordinate mapping."""
    return prepare(img, settings).image


def prepare(img: np.ndarray, settings: Preprocess = Preprocess()) -> Prepared:
    """Run the enabled steps in order: grey, upscale, deskew, denoise, binarise."""
    out = _grey(img) if settings.grey or img.ndim == 2 else img
    if out.ndim == 3:
        out = _grey(out)
    # One ink mask serves both measurements; skew does not depend on scale, so it is
    # measured before upscaling, on the smaller image.
    mask = _ink_mask(out) if settings.upscale or settings.deskew else None
    scale = 1.0
    if settings.upscale:
        scale = _upscale_factor(out, settings.char_height, mask)
    angle = estimate_skew(out, mask=mask) if settings.deskew else 0.0
    if scale > 1.0:
        out = cv2.resize(out, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
    if abs(angle) >= 0.05:
        out = rotate(out, angle)
    else:
        angle = 0.0
    if settings.denoise:
        # Median removes specks; the slight blur after it smooths the jagged stroke edges
        # a median leaves (measured: -0.06 pt CER on bundled pages, -0.15 pt on EHRI).
        out = cv2.GaussianBlur(cv2.medianBlur(out, 3), (0, 0), 0.7)
    if settings.binarise:
        out = binarise(out)
    return Prepared(image=out, scale=scale, angle=angle)


def _grey(img: np.ndarray) -> np.ndarray:
    if img.ndim == 2:
        return (
            img
            if img.dtype == np.uint8
            else cv2.normalize(img, np.empty_like(img), 0, 255, cv2.NORM_MINMAX).astype(np.uint8)
        )
    if img.shape[2] == 4:
        return cv2.cvtColor(img, cv2.COLOR_BGRA2GRAY)
    return cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)


def _ink_mask(img: np.ndarray) -> np.ndarray:
    """Dark pixels as 255 (Otsu on a lightly blurred copy)."""
    blur = cv2.GaussianBlur(img, (3, 3), 0)
    _, mask = cv2.threshold(blur, 0, 255, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)
    return mask


def char_height(img: np.ndarray, mask: np.ndarray | None = None) -> float:
    """Median height of character-sized connected components, 0 when there are none."""
    mask = _ink_mask(img) if mask is None else mask
    try:
        # 16-bit labels: the same components three times faster than 32-bit ones on a
        # 300 dpi page; OpenCV raises rather than wrap when a page has more than 65535.
        n, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8, ltype=cv2.CV_16U)
    except cv2.error:
        n, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    if n <= 1:
        return 0.0
    h = stats[1:, cv2.CC_STAT_HEIGHT]
    w = stats[1:, cv2.CC_STAT_WIDTH]
    area = stats[1:, cv2.CC_STAT_AREA]
    # Letters: not specks, not rules or borders, roughly letter-shaped.
    keep = (h >= 4) & (h <= img.shape[0] / 20) & (w <= 3 * h) & (area >= 6) & (w >= 2)
    if keep.sum() < 20:
        return 0.0
    # Capitals and ascenders define "text size"; take the upper part of the distribution.
    return float(np.percentile(h[keep], 75))


def _upscale_factor(img: np.ndarray, target: float, mask: np.ndarray | None = None) -> float:
    height = char_height(img, mask)
    if height <= 0 or height >= target * 0.7:
        return 1.0
    return float(min(MAX_UPSCALE, target / height))


def estimate_skew(
    img: np.ndarray, max_angle: float = 5.0, step: float = 0.1, mask: np.ndarray | None = None
) -> float:
    """Angle in degrees (counter-clockwise positive) that makes text lines horizontal.

    Projection-profile search: typed lines give the sharpest row profile (largest
    variance of row sums) when they are level. A full 0.5-degree grid on a 500 px ink
    mask finds the peak (the profile can have false peaks far from it); the 0.1- and
    0.025-degree refinements climb from there on a 1000 px mask, since the profile is
    smooth within a coarse step. On all 70 pages tried (bundled, synthetic, real
    scans) that gives the angles a full search of both grids at 1000 px gives, in 40 %
    of the time.
    """
    mask = _ink_mask(img) if mask is None else mask
    small = _downsized(mask, SKEW_SIDE).astype(np.float32)
    if small.sum() == 0:
        return 0.0
    coarse = np.arange(-max_angle, max_angle + 1e-9, 0.5)
    best = float(max(coarse, key=_profile_sharpness(_downsized(small, COARSE_SKEW_SIDE))))
    score = _profile_sharpness(small)
    best = _climb(score, best, step, best - 0.5, best + 0.5)
    best = _climb(score, best, step / 4, best - step, best + step)
    return float(round(best, 3))


def _climb(score: Callable[[float], float], start: float, step: float, lo: float, hi: float) -> float:
    """From ``start``, step by ``step`` while ``score`` rises, within [lo, hi]."""
    best, top = start, score(start)
    for direction in (step, -step):
        while lo - 1e-9 <= best + direction <= hi + 1e-9:
            value = score(best + direction)
            if value <= top:
                break
            best, top = best + direction, value
    return best


SKEW_SIDE = 1000.0
COARSE_SKEW_SIDE = 500.0


def _downsized(img: np.ndarray, side: float) -> np.ndarray:
    factor = min(1.0, side / max(img.shape))
    return cv2.resize(img, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA) if factor < 1 else img


def _profile_sharpness(img: np.ndarray) -> Callable[[float], float]:
    """Variance of the row sums of ``img`` rotated by an angle (memoised: the finer
    searches revisit the coarser ones' best angles)."""
    h, w = img.shape
    centre = (w / 2.0, h / 2.0)
    seen: dict[float, float] = {}

    def score(angle: float) -> float:
        key = round(float(angle), 9)
        if key not in seen:
            m = cv2.getRotationMatrix2D(centre, angle, 1.0)
            rot = cv2.warpAffine(img, m, (w, h), flags=cv2.INTER_LINEAR, borderValue=0)
            seen[key] = float(np.var(rot.sum(axis=1)))
        return seen[key]

    return score


def rotate(img: np.ndarray, angle: float) -> np.ndarray:
    """Rotate about the centre by ``angle`` degrees (CCW), same size, white border."""
    h, w = img.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2.0, h / 2.0), angle, 1.0)
    return cv2.warpAffine(
        img, m, (w, h), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_CONSTANT, borderValue=255
    )


def binarise(img: np.ndarray) -> np.ndarray:
    """Sauvola-style local threshold for unevenly lit pages (window ~ a few text lines)."""
    window = max(15, (min(img.shape[:2]) // 40) | 1)
    f = img.astype(np.float64)
    mean = cv2.boxFilter(f, -1, (window, window), borderType=cv2.BORDER_REPLICATE)
    sq = cv2.boxFilter(f * f, -1, (window, window), borderType=cv2.BORDER_REPLICATE)
    std = np.sqrt(np.maximum(sq - mean * mean, 0))
    k, r = 0.2, 128.0
    thresh = mean * (1 + k * (std / r - 1))
    return np.where(f > thresh, 255, 0).astype(np.uint8)


def map_point_back(x: float, y: float, prepared: Prepared, shape: tuple[int, int]) -> tuple[float, float]:
    """Map a point of the prepared image back to the original page's pixel space.

    Undoes the deskew rotation about the (scaled) centre, then the upscale.
    ``shape`` is the prepared image's (height, width).
    """
    if prepared.angle:
        h, w = shape
        cx, cy = w / 2.0, h / 2.0
        # rotate() used getRotationMatrix2D(angle): invert with -angle.
        a = math.radians(-prepared.angle)
        cos, sin = math.cos(a), math.sin(a)
        dx, dy = x - cx, y - cy
        x, y = cx + cos * dx + sin * dy, cy - sin * dx + cos * dy
    return x / prepared.scale, y / prepared.scale
