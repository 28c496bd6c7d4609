"""``--format html``: one self-contained review page for the people fixing the transcript.

A transcriber needs, for every finding, the transcript line with the suspect span marked
*next to* the piece of scan it was compared with, because the finding is only a claim
until a person has looked at the paper. So the page carries scan crops and page
thumbnails as data URIs (one file to mail or archive, nothing to resolve relative to
where it was written), and every page image is decoded once and all its crops are cut
from that one array.

All text comes from the user's files and the OCR, so it is rendered only through Jinja2
with autoescaping; the page's own script and style are the only ones allowed to run,
pinned by their hashes in a Content-Security-Policy meta tag.
"""

from __future__ import annotations

import base64
import hashlib
import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup
from PIL import Image

from ocr_fix import __version__
from ocr_fix.errors import OcrFixError, UsageError
from ocr_fix.model import BBox, Finding, Kind, PageRef, Severity, TranscriptSpan
from ocr_fix.pipeline import CheckResult, PageStat
from ocr_fix.report import explain
from ocr_fix.report.formats import RenderOptions, ReportFormat
from ocr_fix.transcript import Transcript

#: Crop margin in original pixels; at 300 dpi about 3 mm, enough to see the letters' edges.
CROP_MARGIN = 40
#: Heights above this are not one line of type (whole paragraphs, whole pages).
MAX_LINE_HEIGHT = 120
#: Crops bigger than this are scaled down: a page-sized box must not make a page-sized PNG.
CROP_MAX_W, CROP_MAX_H = 960, 480
THUMB_WIDTH = 300
THUMB_QUALITY = 70
#: Characters of a long (paragraph-per-line) transcript line shown around the span.
LINE_CONTEXT = 100
#: A marked span longer than this shows its two ends only.
MARK_MAX = 300
#: A span crossing more lines than this shows its first and last lines only.
MAX_SPAN_LINES = 4
#: Grey levels kept in crop PNGs. Typed text on paper reads the same with 15 levels as
#: with 256, and the 4-bit PNG is a third of the size (the report carries hundreds).
GREY_LEVELS = 15
#: A median darker than this is not paper (dark scan, photo): leave such crops alone.
PAPER_MIN = 128
_OUTLINE = GREY_LEVELS  # palette index of the outline colour, after the greys
_GREY_INDEX = np.array([round(g * (GREY_LEVELS - 1) / 255) for g in range(256)], dtype=np.uint8)
_PALETTE = [v for i in range(GREY_LEVELS) for v in (round(i * 255 / (GREY_LEVELS - 1)),) * 3] + [220, 30, 30]


@dataclass(frozen=True, slots=True)
class Segment:
    """A run of one transcript line: ``kind`` is ``text``, ``mark`` or ``gap`` (elided)."""

    kind: str
    text: str


@dataclass(frozen=True, slots=True)
class LineView:
    number: int
    segments: tuple[Segment, ...]


@dataclass(frozen=True, slots=True)
class Picture:
    """An encoded image ready for ``<img src>``: its pixel size and, for crops, the
    finding's box in page pixels."""

    uri: str
    width: int
    height: int
    bbox: BBox | None = None


@dataclass(frozen=True, slots=True)
class FindingView:
    anchor: str
    finding: Finding
    lines: tuple[LineView, ...]
    skipped_lines: int  # lines of a long span not shown
    crop: Picture | None


@dataclass(frozen=True, slots=True)
class Box:
    """A finding's box on a page thumbnail, in original page pixels (the SVG viewBox)."""

    anchor: str
    severity: str
    kind: str
    bbox: BBox


@dataclass(frozen=True, slots=True)
class PageView:
    number: int
    label: str
    cer: float | None
    mean_confidence: float
    words: int
    thumb: Picture | None
    page_width: int
    page_height: int
    boxes: tuple[Box, ...]
    findings: int
    problem: str  # why there is no image, "" when there is one


def render(result: CheckResult) -> str:
    """The report as one HTML document (UTF-8 text, no external resources)."""
    env = _environment()
    anchors = {id(f): f"f-{i}" for i, f in enumerate(result.findings, 1)}
    refs = _page_refs(result)
    crops: dict[int, Picture] = {}
    pages: list[PageView] = []
    for stat, image, problem in _page_images(result, refs):
        on_page = [f for f in result.findings if f.scan is not None and f.scan.page == stat.page]
        boxes: list[Box] = []
        for f in on_page:
            assert f.scan is not None
            if f.scan.bbox is None:
                continue
            boxes.append(Box(anchors[id(f)], f.severity.value, f.kind.value, f.scan.bbox))
            if image is not None:
                crops[id(f)] = crop_picture(image, f.scan.bbox)
        h, w = image.shape[:2] if image is not None else (0, 0)
        pages.append(
            PageView(
                stat.page,
                stat.image,
                stat.cer,
                stat.mean_confidence,
                stat.words,
                thumbnail(image) if image is not None else None,
                w,
                h,
                tuple(boxes),
                len(on_page),
                problem,
            )
        )
    views = [
        FindingView(anchors[id(f)], f, *_transcript_view(result.transcript, f.transcript), crops.get(id(f)))
        for f in result.findings
    ]
    style = env.loader.get_source(env, "report.css")[0]  # type: ignore[union-attr]
    script = env.loader.get_source(env, "report.js")[0]  # type: ignore[union-attr]
    kinds = [k.value for k in Kind if any(f.kind is k for f in result.findings)]
    return env.get_template("report.html.j2").render(
        result=result,
        version=__version__,
        findings=views,
        pages=pages,
        counts={s.value: result.count(s) for s in Severity},
        severities=[s.value for s in Severity],
        kinds=kinds,
        style=Markup(style),
        script=Markup(script),
        csp=_csp(style, script),
    )


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("ocr_fix.report", "templates"),
        autoescape=select_autoescape(("html", "html.j2", "j2"), default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["reasons"] = explain.reasons
    env.filters["pct"] = lambda v, digits=1: "\u2013" if v is None else f"{v:.{digits}%}"
    return env


def _csp(style: str, script: str) -> str:
    """Only the page's own style and script (by hash) and data: images may load."""

    def digest(s: str) -> str:
        return "'sha256-" + base64.b64encode(hashlib.sha256(s.encode("utf-8")).digest()).decode() + "'"

    return (
        f"default-src 'none'; img-src data:; style-src {digest(style)}; "
        f"script-src {digest(script)}; base-uri 'none'; form-action 'none'"
    )


# --- transcript -----------------------------------------------------------------------------


def _transcript_view(transcript: Transcript, span: TranscriptSpan | None) -> tuple[tuple[LineView, ...], int]:
    if span is None:
        return (), 0
    lines = transcript_lines(transcript, span)
    if len(lines) > MAX_SPAN_LINES:
        keep = MAX_SPAN_LINES // 2
        return (*lines[:keep], *lines[-keep:]), len(lines) - 2 * keep
    return tuple(lines), 0


def transcript_lines(transcript: Transcript, span: TranscriptSpan) -> list[LineView]:
    """The lines ``span`` covers, split into unmarked and marked runs.

    Columns are 1-based characters and ``end_column`` is exclusive on ``end_line`` (or on
    ``line``). A zero-width span (text missing from the transcript) gives an empty mark,
    drawn as a caret. Positions that no longer fit the text fall back to the span's text.
    """
    if transcript.source is not None:  # XML: show the lines of its text, not of its markup
        span = transcript.text_span(span.start, span.end)
    last = span.end_line or span.line
    try:
        texts = [transcript.line_text(n) for n in range(span.line, last + 1)]
    except ValueError:
        return [LineView(span.line, (Segment("mark", span.text),))]
    out: list[LineView] = []
    for n, text in zip(range(span.line, last + 1), texts, strict=False):
        lo = span.column - 1 if n == span.line else 0
        hi = span.end_column - 1 if n == last else len(text)
        lo = min(max(lo, 0), len(text))
        hi = min(max(hi, lo), len(text))
        out.append(LineView(n, tuple(_segments(text, lo, hi))))
    return out


def _segments(text: str, lo: int, hi: int) -> Iterator[Segment]:
    start = max(0, lo - LINE_CONTEXT)
    end = min(len(text), hi + LINE_CONTEXT)
    if start > 0:
        yield Segment("gap", "…")
    if text[start:lo]:
        yield Segment("text", text[start:lo])
    marked = text[lo:hi]
    if len(marked) > MARK_MAX:
        half = MARK_MAX // 2
        yield Segment("mark", marked[:half])
        yield Segment("gap", f"… {len(marked) - 2 * half} characters …")
        yield Segment("mark", marked[-half:])
    else:
        yield Segment("mark", marked)
    if text[hi:end]:
        yield Segment("text", text[hi:end])
    if end < len(text):
        yield Segment("gap", "…")


# --- scan images ----------------------------------------------------------------------------


def _page_refs(result: CheckResult) -> dict[int, PageRef]:
    """Page number -> where to read it, numbered exactly as the check numbered them.

    Re-expanding the scan arguments gives the same numbering the check used; when that
    fails (a file moved or broke since), each page is located by its own image label so
    one bad file costs one page's pictures, not all of them.
    """
    if not result.scans:
        return {}
    from ocr_fix.scans import expand_scans

    try:
        return {ref.number: ref for ref in expand_scans([Path(s) for s in result.scans])}
    except OcrFixError:
        return {stat.page: _ref_from_label(stat.image, stat.page) for stat in result.pages}


def _ref_from_label(label: str, number: int) -> PageRef:
    """``dir/scan.png`` or ``dir/doc.pdf#3`` (frame 3 of a multi-page file) as a PageRef."""
    path, _, frame = label.rpartition("#")
    if path and frame.isdigit() and int(frame) > 0 and not Path(label).exists():
        return PageRef(Path(path), int(frame) - 1, number, multi=True)
    return PageRef(Path(label), 0, number)


def _page_images(
    result: CheckResult, refs: dict[int, PageRef]
) -> Iterator[tuple[PageStat, np.ndarray | None, str]]:
    """Each checked page with its decoded image (one page in memory at a time)."""
    from ocr_fix.scans import load_image

    for stat in result.pages:
        ref = refs.get(stat.page)
        if ref is None:
            yield stat, None, "image not available"
            continue
        try:
            image = load_image(ref)
        except OcrFixError as exc:
            yield stat, None, f"image not readable: {exc}"
            continue
        yield stat, image, ""


def crop_region(bbox: BBox, shape: tuple[int, ...]) -> BBox:
    """The part of the page shown for ``bbox``: the box, a margin, a line of context above
    and below and a few words' width either side, clipped to the page."""
    line = min(max(bbox.height, 1), MAX_LINE_HEIGHT)
    vm = max(CROP_MARGIN, line * 3 // 2)
    hm = max(CROP_MARGIN, line * 4)
    h, w = shape[:2]
    x0, y0 = max(0, bbox.x0 - hm), max(0, bbox.y0 - vm)
    x1, y1 = min(w, bbox.x1 + hm), min(h, bbox.y1 + vm)
    if x1 <= x0 or y1 <= y0:  # box off the page: show the nearest corner rather than nothing
        x0, y0 = min(max(0, x0), w - 1), min(max(0, y0), h - 1)
        x1, y1 = x0 + 1, y0 + 1
    return BBox(x0, y0, x1, y1)


def crop_picture(image: np.ndarray, bbox: BBox) -> Picture:
    """A PNG of the scan around ``bbox`` with the box outlined.

    Encoded as a 4-bit palette image (:data:`GREY_LEVELS` greys plus the outline colour),
    at the scan's own resolution so the letters stay legible.
    """
    region = crop_region(bbox, image.shape)
    grey = _grey(image[region.y0 : region.y1, region.x0 : region.x1])
    scale = min(1.0, CROP_MAX_W / grey.shape[1], CROP_MAX_H / grey.shape[0])
    if scale < 1.0:
        size = (max(1, round(grey.shape[1] * scale)), max(1, round(grey.shape[0] * scale)))
        grey = cv2.resize(grey, size, interpolation=cv2.INTER_AREA)
    index = _GREY_INDEX[_paper_to_white(grey)]
    pad = 3
    top_left = (round((bbox.x0 - region.x0) * scale) - pad, round((bbox.y0 - region.y0) * scale) - pad)
    bottom_right = (
        round((bbox.x1 - region.x0) * scale) + pad - 1,
        round((bbox.y1 - region.y0) * scale) + pad - 1,
    )
    cv2.rectangle(index, top_left, bottom_right, _OUTLINE, 2)
    h, w = index.shape
    pil = Image.frombytes("P", (w, h), np.ascontiguousarray(index).tobytes())
    pil.putpalette(_PALETTE)
    buf = io.BytesIO()
    pil.save(buf, format="PNG", compress_level=6)  # optimize=True: 8x slower, 7% smaller
    return Picture(_data_uri("image/png", buf.getvalue()), w, h, bbox)


def _paper_to_white(grey: np.ndarray) -> np.ndarray:
    """Stretch so the paper (the crop's median: most of a crop around a word is paper) is
    white. Paper texture would otherwise quantise into blotches; the ink is untouched."""
    paper = float(np.median(grey))
    if paper < PAPER_MIN or paper >= 254:
        return grey
    lut = np.minimum(255, np.arange(256) * (255.0 / paper)).astype(np.uint8)
    return lut[grey]


def thumbnail(image: np.ndarray) -> Picture:
    """A small JPEG of the whole page; findings' boxes are drawn over it as SVG."""
    grey = _grey(image)
    h, w = grey.shape
    width = min(THUMB_WIDTH, w)
    height = max(1, round(h * width / w))
    small = cv2.resize(grey, (width, height), interpolation=cv2.INTER_AREA) if width != w else grey
    buf = io.BytesIO()
    Image.fromarray(small, mode="L").save(buf, format="JPEG", quality=THUMB_QUALITY, optimize=True)
    return Picture(_data_uri("image/jpeg", buf.getvalue()), width, height)


def _grey(image: np.ndarray) -> np.ndarray:
    if image.ndim == 3:
        return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    return image


def _data_uri(mime: str, data: bytes) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


class HtmlFormat(ReportFormat):
    """The review page holds one transcript; every finding, whatever ``--show`` says."""

    name = "html"
    many = False

    def render(self, results: Sequence[CheckResult], options: RenderOptions) -> str:
        if len(results) != 1:
            raise UsageError("--format html reports one transcript at a time")
        return render(results[0])
