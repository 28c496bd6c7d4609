"""Frozen value types shared by every stage.

Stages pass these and nothing mutable: OCR produces :class:`Page`, the transcript reader
produces text with positions, alignment pairs them, triage turns pairs into
:class:`Finding`. Positions travel with the text so every finding can name scan page,
scan line, transcript line and column without a second lookup.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import Enum
from pathlib import Path


@dataclass(frozen=True, slots=True)
class BBox:
    """Pixel box on a page image, ``x1``/``y1`` exclusive."""

    x0: int
    y0: int
    x1: int
    y1: int

    @property
    def width(self) -> int:
        return self.x1 - self.x0

    @property
    def height(self) -> int:
        return self.y1 - self.y0

    def union(self, other: BBox) -> BBox:
        return BBox(
            min(self.x0, other.x0), min(self.y0, other.y0), max(self.x1, other.x1), max(self.y1, other.y1)
        )

    def as_list(self) -> list[int]:
        return [self.x0, self.y0, self.x1, self.y1]


@dataclass(frozen=True, slots=True)
class Word:
    """One OCR word. ``line`` is the 1-based line on its page in reading order."""

    text: str
    box: BBox
    conf: float  # Tesseract word confidence, 0..100
    line: int
    block: int = 0
    par: int = 0


@dataclass(frozen=True, slots=True)
class PageRef:
    """Where one page image comes from.

    ``frame`` is the 0-based page inside a multi-page file (PDF, TIFF), 0 otherwise;
    ``number`` is the 1-based position of the page in the whole scan list.
    """

    path: Path
    frame: int
    number: int
    multi: bool = False  # the file holds several pages

    @property
    def stem(self) -> str:
        """Name used for per-page outputs: ``03.png`` -> ``03``, PDF page 2 -> ``doc-002``."""
        return f"{self.path.stem}-{self.frame + 1:03d}" if self.multi else self.path.stem

    @property
    def label(self) -> str:
        return f"{self.path.name}#{self.frame + 1}" if self.multi else self.path.name


@dataclass(frozen=True, slots=True)
class Page:
    """OCR result of one page image, with how it was read.

    Word boxes are in the pixels of the image as given, whatever was done to read it:
    ``rotation`` is the counter-clockwise quarter turn (0, 90, 180, 270) the page was
    read at, ``skew`` the degrees it was then rotated by to level its lines,
    ``redactions`` the solid bars found on it (text under them is withheld, not
    missing), and ``variant`` which reading was kept (``first``; ``unsmoothed`` for small
    text read better without smoothing; ``turned``, ``restore`` or ``plain`` when the
    first went wrong, see :mod:`ocr_fix.readings`).
    """

    ref: PageRef
    width: int
    height: int
    words: tuple[Word, ...]
    rotation: int = 0
    skew: float = 0.0
    redactions: tuple[BBox, ...] = ()
    variant: str = "first"

    @property
    def number(self) -> int:
        return self.ref.number

    def lines(self) -> list[tuple[Word, ...]]:
        """Words grouped by ``Word.line`` in reading order."""
        out: dict[int, list[Word]] = {}
        for w in self.words:
            out.setdefault(w.line, []).append(w)
        return [tuple(out[k]) for k in sorted(out)]

    def text(self) -> str:
        return "\n".join(" ".join(w.text for w in line) for line in self.lines())

    @property
    def mean_confidence(self) -> float:
        confs = [w.conf for w in self.words if w.conf >= 0]
        return sum(confs) / len(confs) if confs else 0.0


class Severity(str, Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        return {"error": 3, "warning": 2, "info": 1}[self.value]


class Kind(str, Enum):
    SUBSTITUTION = "substitution"  # transcript and scan disagree on a word
    OMISSION = "omission"  # text on the scan missing from the transcript
    INSERTION = "insertion"  # transcript text that the scan does not have
    VARIANT = "variant"  # one lexicon term spelled several ways (lexicon-only mode)
    NONWORD = "nonword"  # word near a lexicon term, in no dictionary (lexicon-only mode)
    MISMATCH = "mismatch"  # the scans are not of this transcript
    NO_SCAN = "no-scan"  # transcript range with no page
    UNTRANSCRIBED = "untranscribed"  # page with no transcript text
    PAGE_ORDER = "page-order"  # pages found in another order than the transcript's
    LINE_ORDER = "line-order"  # transcript lines in another order than the scan's


@dataclass(frozen=True, slots=True)
class TranscriptSpan:
    """A span of the transcript file as given: 1-based line and columns (characters).

    ``end_column`` is exclusive; ``start``/``end`` are character offsets in the file.
    """

    line: int
    column: int
    end_column: int
    text: str
    start: int
    end: int
    end_line: int | None = None  # set when the span crosses lines
    #: XML transcripts: id of the element holding the text (ALTO String / TextLine,
    #: PAGE Word / TextLine, hOCR word); line and columns are then those in the XML file.
    element: str | None = None


@dataclass(frozen=True, slots=True)
class ScanSpan:
    """What the scan shows at a finding."""

    page: int
    line: int
    text: str
    confidence: float
    bbox: BBox | None
    image: str = ""


#: Named numeric evidence about one finding, in a fixed order: ``(("ocr_conf", 0.96), ...)``.
Features = tuple[tuple[str, float], ...]


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing a person should look at.

    ``message`` states *what* was found (the two readings, the span); *why* it has its
    severity is ``features`` — named numbers (:mod:`ocr_fix.features` defines them) —
    and ``score``, the evidence model's probability that the transcript is wrong here
    (None for findings the model does not judge: coverage, mismatch, lexicon-only).
    Reasons are rendered from the features at report time; no stage edits ``message``.
    """

    severity: Severity
    kind: Kind
    transcript: TranscriptSpan | None
    scan: ScanSpan | None
    suggestion: str
    message: str
    features: Features = field(default=())
    score: float | None = None

    def feature(self, name: str, default: float = 0.0) -> float:
        for k, v in self.features:
            if k == name:
                return v
        return default

    def has(self, name: str) -> bool:
        return any(k == name for k, _ in self.features)

    def with_features(self, **values: float) -> Finding:
        """A copy with ``values`` set (replacing features of the same name, in place)."""
        seen = dict(self.features)
        seen.update({k: float(v) for k, v in values.items()})
        return replace(self, features=tuple(seen.items()))
