"""The OCR engine interface: everything the cache, the scheduler and the pipeline may ask
of an engine, each capability declared with an explicit default.

Callers read :attr:`OcrEngine.capabilities` and call the methods; they never probe an
engine with ``hasattr`` or ask for its class. An engine that declares a capability
overrides the method that goes with it; the defaults below are what an engine without
it does (read pages one at a time, no timeout, no second readings, no layout retry).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ocr_fix.errors import OcrFixError
from ocr_fix.model import Page, PageRef

if TYPE_CHECKING:
    import numpy as np

    from ocr_fix.ocr.cache import OcrCache
    from ocr_fix.ocr.reread import LineReader
    from ocr_fix.scans import DecodedPages


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What an engine can do besides reading a page."""

    #: :meth:`OcrEngine.recognise_many` reads several pages for less than one at a time
    #: (one process start-up); the scheduler then hands it pages in chunks.
    many_pages: bool = False
    #: :meth:`OcrEngine.with_timeout` bounds the reading of one page.
    timeout: bool = False
    #: :meth:`OcrEngine.line_reader` reads line regions again (the second reading).
    line_rereading: bool = False
    #: Those second readings carry per-glyph alternatives with their weights.
    glyph_alternatives: bool = False
    #: :meth:`OcrEngine.layout_retry` gives an engine with automatic layout analysis for
    #: pages whose columns ran together.
    layout_retry: bool = False
    #: :meth:`OcrEngine.load` gives the page's pixels as the engine read them: the
    #: verifier's crops and the ink of disputed marks are looked at there.
    page_images: bool = False


class OcrEngine(ABC):
    """Page image -> :class:`Page` (Tesseract here, fakes in tests)."""

    @property
    def capabilities(self) -> Capabilities:
        """What this engine can do besides reading a page. Default: nothing more."""
        return Capabilities()

    @abstractmethod
    def recognise(self, ref: PageRef) -> Page:
        """The words of one page; expected failures as :class:`OcrFixError`."""

    @abstractmethod
    def cache_token(self) -> str:
        """Changes whenever this engine may read the same image differently."""

    def recognise_many(self, refs: Sequence[PageRef]) -> list[Page | OcrFixError]:
        """Each page's result or its failure, in order. Default: one page at a time."""
        out: list[Page | OcrFixError] = []
        for ref in refs:
            try:
                out.append(self.recognise(ref))
            except OcrFixError as exc:
                out.append(exc)
        return out

    def with_timeout(self, timeout: float | None) -> OcrEngine:
        """This engine with at most ``timeout`` seconds per page. Default: unchanged
        (the engine cannot bound a reading; ``capabilities.timeout`` is False)."""
        return self

    def with_decoded_pages(self, decoded: DecodedPages | None) -> OcrEngine:
        """This engine keeping the pages it decodes in ``decoded`` (and reading them from
        there), for the run's later steps that read the same pixels. Default: unchanged
        (the engine decodes no page images of its own)."""
        return self

    def load(self, ref: PageRef, mapped: bool = False) -> np.ndarray | None:
        """The page's pixels as this engine reads them (through the run's decoded pages,
        ``mapped``: as a read-only memory map), for the steps that look at the image
        again; None: the engine has no page images of its own. Default: None."""
        return None

    def line_reader(self, cache: OcrCache | None) -> LineReader | None:
        """A reader of line regions for second readings, or None. Default: None."""
        return None

    def layout_retry(self) -> OcrEngine | None:
        """An engine that reads the same pages with automatic layout analysis, or None
        when this one already does (or cannot). Default: None."""
        return None
