"""A second, independent reading of the lines where the transcript and the scan disagree.

Tesseract's word confidence is poorly calibrated: it reads a degraded ``be`` as ``he`` at
96. What separates OCR noise from a real transcript error is *agreement*: a transcription
error is on the page and every careful reading sees it, while most OCR noise comes from
one particular view of the pixels. So the lines of the warning and error findings are
read again, cropped, at another scale and without the first pass's smoothing, and

- when the second reading of the disputed words agrees with the **transcript**, the
  finding is downgraded to ``info`` (the first OCR reading was noise);
- when it agrees with the first OCR reading, the finding keeps its severity and says so;
- when it agrees with neither, nothing changes.

A finding whose scan reading had too little confidence to count is raised to what a
confident reading would have meant when the second reading agrees with the first (two
independent readings agreeing are evidence Tesseract's score does not capture).
Otherwise it only lowers severities, and leaves alone errors that rest on the lexicon (a term
or an identifier pattern the scan matches): those need no second opinion, and skipping
them keeps the extra Tesseract runs few. Each line is read on its own, in Tesseract's
single-line mode; the disputed lines of a whole document go to one or a few Tesseract
processes (loading Tesseract costs more than reading a line), and the readings are
cached per page like page OCR.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Protocol

import cv2
import numpy as np
from lxml import etree
from rapidfuzz.distance import Levenshtein

from ocr_fix.evidence import with_core
from ocr_fix.lexicon import Lexicon, bare
from ocr_fix.model import BBox, Finding, Kind, Page, Severity, Word
from ocr_fix.normalize.tokens import loose_key
from ocr_fix.normalize.typography import fold_ocr_text

if TYPE_CHECKING:
    from ocr_fix.ocr.cache import OcrCache
    from ocr_fix.ocr.tesseract import TesseractEngine

PAD_X = 12  # pixels of margin left and right of a line crop
PAD_Y = 10  # above and below: more would take in the neighbouring lines' ascenders
SCALE = 1.5  # the second reading sees the line bigger than the first
MIN_ALTERNATIVE = 1.0  # an LSTM alternative weighed at least this much (0..100) counts


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
        from ocr_fix.scans import load_image

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

        def line_crops(i: int) -> list[np.ndarray]:
            page, boxes = requests[i]
            image = load_image(page.ref, self.engine.settings.dpi)
            return [crop_line(image, b) for b in boxes]

        crops: list[np.ndarray] = []
        owners: list[int] = []  # request index of each crop
        # Decoding whole pages to crop a few lines is most of this step's own time; the
        # decoders let go of the GIL, so pages decode side by side.
        with ThreadPoolExecutor(max_workers=max(1, min(os.cpu_count() or 1, len(todo)))) as pool:
            for i, page_crops in zip(todo, pool.map(line_crops, todo), strict=True):
                crops.extend(page_crops)
                owners.extend([i] * len(page_crops))
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


def crop_line(image: np.ndarray, box: BBox) -> np.ndarray:
    """The line's region with a small margin, upscaled: what the second reading sees."""
    h, w = image.shape[:2]
    crop = image[
        max(0, box.y0 - PAD_Y) : min(h, box.y1 + PAD_Y), max(0, box.x0 - PAD_X) : min(w, box.x1 + PAD_X)
    ]
    return cv2.resize(crop, None, fx=SCALE, fy=SCALE, interpolation=cv2.INTER_CUBIC)


def verify(
    findings: Sequence[Finding],
    pages: Sequence[Page],
    reader: LineReader,
    lexicon: Lexicon | None = None,
    wanted: Callable[[Finding], bool] | None = None,
) -> list[Finding]:
    """``findings`` with the features of a second reading of their lines added (see
    :func:`second_features`) for those ``wanted`` (by default: substitutions and
    omissions that are warnings or errors, or that wait on a second reading)."""
    lexicon = lexicon or Lexicon()
    legacy = wanted is None
    wanted = wanted or _legacy_wanted
    by_number = {p.number: p for p in pages}
    todo: dict[int, list[int]] = {}
    for i, f in enumerate(findings):
        if (
            f.kind in (Kind.SUBSTITUTION, Kind.OMISSION)
            and f.transcript is not None
            and f.scan is not None
            and f.scan.bbox is not None
            and f.scan.page in by_number
            and wanted(f)
        ):
            todo.setdefault(f.scan.page, []).append(i)
    plan: list[tuple[list[int], dict[int, list[Word]], list[int], list[BBox]]] = []
    for number, idxs in sorted(todo.items()):
        page = by_number[number]
        lines: dict[int, list[Word]] = {w.line: [] for w in page.words}
        for w in page.words:
            lines[w.line].append(w)
        wanted_lines = sorted({findings[i].scan.line for i in idxs if findings[i].scan.line in lines})  # type: ignore[union-attr]
        plan.append((idxs, lines, wanted_lines, [_union([w.box for w in lines[n]]) for n in wanted_lines]))
    out = list(findings)
    if not plan:
        return out
    read = reader.read_lines(
        [(by_number[number], boxes) for number, (_, _, _, boxes) in zip(sorted(todo), plan, strict=True)]
    )
    for (idxs, lines, wanted_lines, _), second in zip(plan, read, strict=True):
        readings = dict(zip(wanted_lines, second, strict=True))
        for i in idxs:
            f = findings[i]
            if f.scan is None or f.scan.bbox is None or f.scan.line not in readings:
                continue
            words = _counterpart(lines[f.scan.line], f.scan.bbox, readings[f.scan.line])
            if words is not None:
                g = f.with_features(**second_features(f, words, lexicon))
                out[i] = (
                    _legacy_decide(g, words, lexicon) if legacy else _lexicon_suggestion(g, words, lexicon)
                )
    return out


def _legacy_wanted(f: Finding) -> bool:
    return (f.severity.rank >= Severity.WARNING.rank or f.feature("rule_pending") > 0) and not f.feature(
        "rule_backed"
    )


def _fold(text: str) -> str:
    return loose_key(text)


def second_features(f: Finding, words: Sequence[ReadWord], lexicon: Lexicon) -> dict[str, float]:
    """What a second reading ``words`` of the finding's scan words says: whether it
    agrees with the first reading or with the transcript once case, punctuation and
    spacing are folded the same way on both sides (exactly, for a finding that *is* a
    case or punctuation difference), or with neither; whether it reads a lexicon term
    the transcript lacks; whether Tesseract weighed the transcript's characters for the
    glyphs that differ. A second reading that is one letter off the first and not the
    transcript's reading (``tbe`` for ``the``) is the same reading of the same pixels."""
    assert f.scan is not None and f.transcript is not None
    seen = " ".join(fold_ocr_text(w[0]) for w in words)
    first = f.scan.text
    if f.kind is Kind.OMISSION:
        transcript_view = ""
    elif f.suggestion and f.suggestion in first:
        transcript_view = first.replace(f.suggestion, f.transcript.text, 1)
    else:
        transcript_view = f.transcript.text
    surface = f.feature("case_only") > 0 or f.feature("punct_only") > 0
    fold = (lambda x: x) if surface else _fold
    agrees_t = bool(transcript_view) and fold(seen) == fold(transcript_view)
    agrees_o = not agrees_t and (
        fold(seen) == fold(first)
        or bool(f.suggestion and fold(seen) == fold(f.suggestion))
        or _ambiguous(words, first)
        or (
            not surface
            and Levenshtein.distance(_fold(seen), _fold(first)) <= 1
            and Levenshtein.distance(_fold(seen), _fold(transcript_view)) > 1
        )
    )
    lexical = (
        len(words) == 1
        and lexicon.contains(seen)
        and not lexicon.contains(f.transcript.text)
        and not any(c.isdigit() for c in seen)
    )
    return {
        "second_read": 1.0,
        "second_agrees_ocr": float(agrees_o),
        "second_agrees_transcript": float(agrees_t),
        "second_contradicts_both": float(not agrees_o and not agrees_t),
        "second_is_lexicon": float(lexical),
        "glyph_doubt": float(bool(transcript_view) and not agrees_t and _ambiguous(words, transcript_view)),
    }


def _lexicon_suggestion(f: Finding, words: Sequence[ReadWord], lexicon: Lexicon) -> Finding:
    """A second reading that is a lexicon term the transcript lacks suggests that term."""
    if not f.feature("second_is_lexicon") or f.transcript is None:
        return f
    seen = " ".join(fold_ocr_text(w[0]) for w in words)
    term = lexicon.canonical(seen) or bare(seen)
    return replace(f, suggestion=with_core(f.transcript.text, term))


def _legacy_decide(f: Finding, words: Sequence[ReadWord], lexicon: Lexicon) -> Finding:
    """The hand-made verdict of a second reading, kept until the fitted model replaces it."""
    pending = f.feature("rule_pending")
    if pending:
        raised = Severity.ERROR if pending >= Severity.ERROR.rank else Severity.WARNING
        if f.feature("second_agrees_ocr"):
            return replace(f.with_features(rule_pending=0), severity=raised)
        if f.feature("second_is_lexicon"):
            seen = " ".join(fold_ocr_text(w[0]) for w in words)
            term = lexicon.canonical(seen) or bare(seen)
            assert f.transcript is not None
            return replace(
                f.with_features(rule_pending=0),
                severity=raised,
                suggestion=with_core(f.transcript.text, term),
            )
        return f.with_features(rule_pending=0)
    if f.feature("second_agrees_transcript"):
        return replace(f, severity=Severity.INFO)
    if f.severity is Severity.WARNING and (f.feature("glyph_doubt") or f.feature("second_contradicts_both")):
        return replace(f, severity=Severity.INFO)
    return f


def _union(boxes: Sequence[BBox]) -> BBox:
    box = boxes[0]
    for b in boxes[1:]:
        box = box.union(b)
    return box


def _counterpart(line: Sequence[Word], target: BBox, second: Sequence[ReadWord]) -> list[ReadWord] | None:
    """The words of the second reading where the first reading had the words in
    ``target``: the two readings of the line aligned on their word keys."""
    first = [fold_ocr_text(w.text) for w in line]
    inside = [
        i
        for i, w in enumerate(line)
        if w.box.x0 >= target.x0 - 2
        and w.box.x1 <= target.x1 + 2
        and w.box.y0 >= target.y0 - 2
        and w.box.y1 <= target.y1 + 2
    ]
    if not inside:
        return None
    lo, hi = inside[0], inside[-1] + 1
    mapped: list[int] = []
    keys = [loose_key(fold_ocr_text(w[0])) for w in second]
    for op in Levenshtein.opcodes([loose_key(t) for t in first], keys):
        if op.src_end <= lo or op.src_start >= hi:
            continue
        if op.tag == "equal":
            a, b = max(op.src_start, lo), min(op.src_end, hi)
            mapped.extend(range(op.dest_start + a - op.src_start, op.dest_start + b - op.src_start))
        else:
            mapped.extend(range(op.dest_start, op.dest_end))
    return [second[j] for j in sorted(set(mapped))]


def _ambiguous(words: Sequence[ReadWord], wanted: str) -> bool:
    """True when every character where the second reading differs from ``wanted`` was
    a glyph for which Tesseract itself weighed ``wanted``'s character."""
    glyphs: list[Glyph] = []
    for n, (_, gs) in enumerate(words):
        if n:
            glyphs.append((" ", {}))
        glyphs.extend((fold_ocr_text(c), alts) for c, alts in gs)
    seen = "".join(c for c, _ in glyphs)
    if len(seen) != len(glyphs):  # a fold changed a glyph's length: positions unreliable
        return False
    ops = Levenshtein.editops(seen, wanted)
    return bool(ops) and all(
        op.tag == "replace" and glyphs[op.src_pos][1].get(wanted[op.dest_pos], 0.0) >= MIN_ALTERNATIVE
        for op in ops
    )


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
