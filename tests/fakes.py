"""Test doubles: an OCR engine that "reads" a page from its text, with made-up boxes."""

from __future__ import annotations

import random
from pathlib import Path

from ocr_fix.model import BBox, Page, PageRef, Word

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


class FakeEngine:
    """OcrEngine over a dict image-path -> text; counts calls to prove cache hits."""

    def __init__(self, texts: dict[str, str], conf: float = 95.0) -> None:
        self.texts = texts
        self.conf = conf
        self.calls = 0

    def cache_token(self) -> str:
        return "fake-1"

    def recognise(self, ref: PageRef) -> Page:
        self.calls += 1
        page = page_from_text(self.texts[ref.path.name], ref.number, ref.path, self.conf)
        return Page(ref, page.width, page.height, page.words)


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
        super().__init__(texts)
        self.bad = bad
        self.tasks: list[list[str]] = []

    def recognise(self, ref: PageRef) -> Page:
        if ref.path.name in self.bad:
            from ocr_fix.errors import OcrFailed

            raise OcrFailed(f"Tesseract failed on page {ref.number} ({ref.label}), exit 1: bad page")
        return super().recognise(ref)

    def recognise_many(self, refs: list[PageRef]) -> list:
        from ocr_fix.errors import OcrFixError

        self.tasks.append([r.path.name for r in refs])
        out: list = []
        for ref in refs:
            try:
                out.append(self.recognise(ref))
            except OcrFixError as exc:
                out.append(exc)
        return out
