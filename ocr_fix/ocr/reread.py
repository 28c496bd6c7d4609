"""Second readings of line regions: the :class:`LineReader` interface and Tesseract's
reader (single-line mode on upscaled crops, with the LSTM's per-glyph alternatives),
its hOCR parsing and its cache. What the readings mean is decided in :mod:`ocr_fix.verify`."""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Protocol

import cv2
import numpy as np
from lxml import etree

from ocr_fix.model import BBox, Page

if TYPE_CHECKING:
    from ocr_fix.ocr.cache import OcrCache
    from ocr_fix.ocr.tesseract import TesseractEngine


PAD_X = 12  # pixels of margin left and right of a line crop
PAD_Y = 10  # above and below: more would take in the neighbouring lines' ascenders
SCALE = 1.5  # the second reading sees the line bigger than the first


#: A glyph: the character read and Tesseract's alternatives for it with their confidences.
Glyph = tuple[str, dict[str, float]]
#: A word of a second reading: its text and its glyphs.
ReadWord = tuple[str, list[Glyph]]


#: What a second reading is asked for: a page and boxes of lines on it.
LineRequest = tuple[Page, Sequence[BBox]]

#: A Tesseract process is shared by at least this many line crops before a second one
#: starts (each process costs ~70 ms to load; a typed line takes ~50 ms to read).
LINES_PER_PROCESS = 4


class LineReader(Protocol):
    """Reads given line regions of pages again: for each request, for each of its boxes,
    the words read there. All requests come at once, so an engine can read them in
    few processes."""

    def read_lines(self, requests: Sequence[LineRequest]) -> list[list[list[ReadWord]]]: ...


@dataclass(frozen=True)
class TesseractLineReader:
    """Second readings through the same Tesseract binary in single-line mode, on
    upscaled crops of the original image, with the LSTM's per-glyph alternatives."""

    engine: TesseractEngine
    cache: OcrCache | None = None

    def _token(self) -> str:
        return f"reread-v3|{self.engine.cache_token()}|{PAD_X}|{PAD_Y}|{SCALE}"

    def _key(self, page: Page, boxes: Sequence[BBox]) -> str:
        from ocr_fix.scans import content_key

        return hashlib.sha256(
            json.dumps([content_key(page.ref), self._token(), [b.as_list() for b in boxes]]).encode()
        ).hexdigest()

    def read_lines(self, requests: Sequence[LineRequest]) -> list[list[list[ReadWord]]]:
        out: list[list[list[ReadWord]] | None] = [None] * len(requests)
        keys = [self._key(page, boxes) for page, boxes in requests]
        todo: list[int] = []  # requests to read: not cached, with boxes
        for i, (_, boxes) in enumerate(requests):
            hit = self.cache.get_json(keys[i]) if self.cache is not None else None
            cached = _cached_lines(hit, len(boxes))
            if cached is not None:
                out[i] = cached
                continue
            out[i] = []
            if boxes:
                todo.append(i)

        crops: list[np.ndarray] = []
        owners: list[int] = []  # request index of each crop
        # One page after another, on this thread: OpenCV's cubic resize splits a crop
        # into stripes for its own threads, and a resize called while another thread's
        # holds them runs as one stripe, which rounds a pixel here and there otherwise
        # (measured: one pixel of a bundled line crop one grey level apart, and that
        # line's second reading's glyph confidences with it). Pages side by side in
        # threads made the crops depend on timing; they only paid when each page was
        # decoded here, and now come from the run's kept pages (a memory map, ~2 ms).
        for i in todo:
            page, boxes = requests[i]
            image = self.engine.load(page.ref, mapped=True)  # only the lines' rows are read
            crops.extend(upright(crop_line(image, b), page) for b in boxes)
            owners.extend([i] * len(boxes))
        for owner, words in zip(owners, self._read(crops), strict=True):
            out[owner].append(words)  # type: ignore[union-attr]
        if self.cache is not None:
            for i in sorted(set(owners)):
                self.cache.put_json(keys[i], out[i])
        return [lines or [] for lines in out]

    def _read(self, crops: Sequence[np.ndarray]) -> list[list[ReadWord]]:
        """Each crop read in single-line mode, in a few Tesseract processes side by side."""
        if not crops:
            return []
        settings = self.engine.settings
        config = f"{settings.config} lstm_choice_mode=2 hocr_char_boxes=1".strip()
        single_line = replace(self.engine, settings=replace(settings, psm=7, config=config))
        processes = max(1, min(os.cpu_count() or 1, len(crops) // LINES_PER_PROCESS))
        size = -(-len(crops) // processes)
        chunks = [crops[i : i + size] for i in range(0, len(crops), size)]

        def read(chunk: Sequence[np.ndarray]) -> list[list[ReadWord]]:
            hocr = single_line.run_many(chunk, "hocr", f"a second reading of {len(chunk)} lines")
            return parse_hocr_pages(hocr, len(chunk))

        with ThreadPoolExecutor(max_workers=len(chunks)) as pool:
            return [words for lines in pool.map(read, chunks) for words in lines]


def parse_hocr_pages(hocr: str, pages: int) -> list[list[ReadWord]]:
    """The words of each of ``pages`` pages of a multi-page hOCR document, in page
    order (a page Tesseract left out reads as no words)."""
    out: list[list[ReadWord]] = [[] for _ in range(pages)]
    if not hocr.strip():
        return out
    root = etree.fromstring(hocr.encode("utf-8"), etree.HTMLParser())
    for n, div in enumerate(d for d in root.iter("div") if "ocr_page" in (d.get("class") or "").split()):
        m = re.search(r"ppageno\s+(\d+)", div.get("title") or "")
        index = int(m.group(1)) if m else n
        if 0 <= index < pages:
            out[index] = _glyph_words(div)
    return out


def parse_hocr_glyphs(hocr: str) -> list[ReadWord]:
    """Words of Tesseract hOCR made with ``lstm_choice_mode=2`` and ``hocr_char_boxes``:
    each glyph with the alternatives the LSTM weighed for it."""
    if not hocr.strip():
        return []
    return _glyph_words(etree.fromstring(hocr.encode("utf-8"), etree.HTMLParser()))


def _glyph_words(root: etree._Element) -> list[ReadWord]:
    words: list[ReadWord] = []
    for word in root.iter("span"):
        if "ocrx_word" not in (word.get("class") or ""):
            continue
        glyphs: list[Glyph] = []
        for span in word:
            title, ident = span.get("title") or "", span.get("id") or ""
            if "x_bboxes" in title:
                glyphs.append(((span.text or ""), {}))
            elif ident.startswith("lstm_choices") and glyphs:
                alts = glyphs[-1][1]
                for choice in span:
                    m = re.search(r"x_confs\s+([\d.]+)", choice.get("title") or "")
                    if m and choice.text:
                        alts[choice.text] = max(alts.get(choice.text, 0.0), float(m.group(1)))
        text = "".join(g[0] for g in glyphs) or "".join(word.itertext()).strip()
        if text:
            words.append((text, glyphs))
    return words


#: Line crops of pages read at least this skewed (degrees) are levelled before reading.
LEVEL_SKEW = 2.0


def upright(crop: np.ndarray, page: Page) -> np.ndarray:
    """A line crop the way the page was read: turned by the page's rotation and, on a
    strongly skewed page, levelled (word boxes are in the pixels of the page as given)."""
    from ocr_fix.orientation import turn
    from ocr_fix.scans import rotate_expand

    crop = turn(crop, page.rotation)
    return rotate_expand(crop, page.skew) if abs(page.skew) >= LEVEL_SKEW else crop


def crop_line(image: np.ndarray, box: BBox) -> np.ndarray:
    """The line's region with a small margin, upscaled: what the second reading sees."""
    h, w = image.shape[:2]
    crop = image[
        max(0, box.y0 - PAD_Y) : min(h, box.y1 + PAD_Y), max(0, box.x0 - PAD_X) : min(w, box.x1 + PAD_X)
    ]
    return cv2.resize(crop, None, fx=SCALE, fy=SCALE, interpolation=cv2.INTER_CUBIC)


def _cached_lines(hit: object, lines: int) -> list[list[ReadWord]] | None:
    """The second readings of a cache entry, or None (a miss) when it is not the shape
    :meth:`TesseractLineReader.read_lines` writes: a corrupt or foreign entry is read again."""
    if not isinstance(hit, list) or len(hit) != lines:
        return None
    try:
        out = [[(str(w[0]), [(str(g[0]), dict(g[1])) for g in w[1]]) for w in line] for line in hit]
    except (TypeError, ValueError, IndexError, KeyError):
        return None
    if not all(
        isinstance(v, (int, float))
        for line in out
        for _, glyphs in line
        for _, alts in glyphs
        for v in alts.values()
    ):
        return None
    return out
