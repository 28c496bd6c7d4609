"""The OCR engine interface: what the cache, the scheduler and the pipeline need."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from ocr_fix.model import Page, PageRef


@runtime_checkable
class OcrEngine(Protocol):
    """What :func:`~ocr_fix.ocr.scheduler.ocr_pages` needs from an OCR engine (a fake in tests,
    Tesseract here)."""

    def recognise(self, ref: PageRef) -> Page: ...

    def cache_token(self) -> str: ...
