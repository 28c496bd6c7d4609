"""Test doubles: an OCR engine that "reads" a page from its text, with made-up boxes."""

from __future__ import annotations

import copy
import random
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from typer.testing import CliRunner, Result

from ocr_fix.cli.common import Services
from ocr_fix.errors import OcrFixError
from ocr_fix.model import BBox, Page, PageRef, Word
from ocr_fix.ocr.engine import Capabilities, OcrEngine

if TYPE_CHECKING:
    from ocr_fix.ocr.cache import OcrCache
    from ocr_fix.ocr.reread import ReadWord

CHAR_W, LINE_H, MARGIN = 25, 50, 300


def page_from_text(
    text: str, number: int = 1, path: Path | None = None, conf: float | dict[str, float] = 95.0
) -> Page:
    """A Page whose words are ``text``'s words, line by line, monospace boxes.

    ``conf`` is one confidence for all words or a map word -> confidence (default 95).
    """
    words: list[Word] = []
    line_no = 0
    for row in text.splitlines():
        if not row.strip():
            continue
        line_no += 1
        col = 0
        for part in row.split(" "):
            if part:
                x0 = MARGIN + col * CHAR_W
                y0 = MARGIN + line_no * LINE_H
                c = conf.get(part, 95.0) if isinstance(conf, dict) else conf
                words.append(Word(part, BBox(x0, y0, x0 + len(part) * CHAR_W, y0 + 40), c, line_no, 1, 1))
            col += len(part) + 1
    ref = PageRef(path or Path(f"{number:02d}.png"), 0, number)
    return Page(ref, 2550, 3300, tuple(words))


class FakeEngine(OcrEngine):
    """The whole OcrEngine interface over a dict image-name -> text, with made-up boxes;
    counts calls to prove cache hits (module level, so it pickles into worker processes).

    - ``second``: image name -> the text a *second reading* sees on that page (line
      re-reading, with per-glyph alternatives from ``alternatives``: character ->
      {alternative: weight}); pages not named read again as the first time.
    - ``layout``: image name -> the text an automatic-layout reading gives (the layout
      retry); the retry engine reads the other pages as the first time.
    - ``many_pages``: read several pages per task like Tesseract (off by default, so
      tests see one page per task unless they ask).
    Each capability is declared when its data is given.
    """

    def __init__(
        self,
        texts: dict[str, str],
        conf: float = 95.0,
        *,
        second: dict[str, str] | None = None,
        alternatives: dict[str, dict[str, float]] | None = None,
        layout: dict[str, str] | None = None,
        many_pages: bool = False,
        timeout: float | None = None,
    ) -> None:
        self.texts = texts
        self.conf = conf
        self.second = second
        self.alternatives = alternatives or {}
        self.layout = layout
        self.many_pages = many_pages
        self.timeout = timeout
        self.calls = 0

    @property
    def capabilities(self) -> Capabilities:
        return Capabilities(
            many_pages=self.many_pages,
            timeout=True,
            line_rereading=self.second is not None,
            glyph_alternatives=self.second is not None,
            layout_retry=self.layout is not None,
        )

    def cache_token(self) -> str:
        return "fake-1"

    def recognise(self, ref: PageRef) -> Page:
        self.calls += 1
        page = page_from_text(self.texts[ref.path.name], ref.number, ref.path, self.conf)
        return Page(ref, page.width, page.height, page.words)

    def with_timeout(self, timeout: float | None) -> FakeEngine:
        other = copy.copy(self)
        other.timeout = timeout
        return other

    def line_reader(self, cache: OcrCache | None) -> FakeLineReader | None:
        if self.second is None:
            return None
        return FakeLineReader({**self.texts, **self.second}, self.alternatives)

    def layout_retry(self) -> FakeEngine | None:
        if self.layout is None:
            return None
        return _LayoutEngine({**self.texts, **self.layout}, self.conf)


class _LayoutEngine(FakeEngine):
    """What :meth:`FakeEngine.layout_retry` gives: already in automatic layout mode."""

    def cache_token(self) -> str:
        return "fake-1-layout"


class FakeLineReader:
    """Second readings of line boxes from a page text laid out as :func:`page_from_text`
    lays out the first reading: the words whose box centre lies in the requested box."""

    def __init__(self, texts: dict[str, str], alternatives: dict[str, dict[str, float]]) -> None:
        self.texts = texts
        self.alternatives = alternatives
        self.requests: list[tuple[int, int]] = []  # (page number, boxes) of each request

    def read_lines(self, requests: Sequence[tuple[Page, Sequence[BBox]]]) -> list[list[list[ReadWord]]]:
        out: list[list[list[ReadWord]]] = []
        for page, boxes in requests:
            self.requests.append((page.number, len(boxes)))
            again = page_from_text(self.texts[page.ref.path.name], page.number, page.ref.path)
            lines: list[list[ReadWord]] = []
            for box in boxes:
                inside = [
                    w
                    for w in again.words
                    if box.x0 <= (w.box.x0 + w.box.x1) / 2 <= box.x1
                    and box.y0 <= (w.box.y0 + w.box.y1) / 2 <= box.y1
                ]
                lines.append(
                    [(w.text, [(c, dict(self.alternatives.get(c, {}))) for c in w.text]) for w in inside]
                )
            out.append(lines)
        return out


def _centre_in(word: BBox, box: BBox) -> bool:
    return box.x0 <= (word.x0 + word.x1) / 2 <= box.x1 and box.y0 <= (word.y0 + word.y1) / 2 <= box.y1


def perturb(text: str, seed: int, rate: float = 0.04) -> str:
    """Deterministic OCR-like damage: substitutions, insertions, deletions, a few of
    them whitespace (joined words, split words, lost line breaks) and accents."""
    rng = random.Random(seed)
    confusable = "ceoarnmil1!|.,' \n"
    out: list[str] = []
    for ch in text:
        roll = rng.random()
        if roll < rate * 0.5:
            out.append(rng.choice(confusable))
        elif roll < rate * 0.7:
            continue
        elif roll < rate * 0.9:
            out.extend((ch, rng.choice(confusable)))
        elif roll < rate:
            out.extend((ch, "\u0301"))  # decomposed accent: one grapheme with ch
        else:
            out.append(ch)
    return "".join(out)


class ChunkEngine(FakeEngine):
    """FakeEngine that, like Tesseract, reads several pages in one task
    (``recognise_many``); pages named in ``bad`` fail. Records the tasks it got, in
    process."""

    def __init__(self, texts: dict[str, str], bad: frozenset[str] = frozenset()) -> None:
        super().__init__(texts, many_pages=True)
        self.bad = bad
        self.tasks: list[list[str]] = []

    def recognise(self, ref: PageRef) -> Page:
        if ref.path.name in self.bad:
            from ocr_fix.errors import OcrFailed

            raise OcrFailed(f"Tesseract failed on page {ref.number} ({ref.label}), exit 1: bad page")
        return super().recognise(ref)

    def recognise_many(self, refs: Sequence[PageRef]) -> list[Page | OcrFixError]:
        self.tasks.append([r.path.name for r in refs])
        return super().recognise_many(refs)


class OcrCliRunner(CliRunner):
    """A CliRunner whose commands OCR with ``engine`` when one is set: it is handed to the
    CLI as its :class:`~ocr_fix.cli.common.Services`, nothing is patched."""

    def __init__(self, engine: OcrEngine | None = None) -> None:
        super().__init__()
        self.engine = engine

    def invoke(self, *args: Any, **kwargs: Any) -> Result:
        if self.engine is not None:
            engine = self.engine
            kwargs.setdefault("obj", Services(engines=lambda lang, psm: engine))
        return super().invoke(*args, **kwargs)
