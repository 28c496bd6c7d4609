"""OCR options shared by ``ocr``, ``check`` and ``batch``: declared once, reused as
annotated parameters (Typer has no option groups)."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

Jobs = Annotated[
    int | None, typer.Option("--jobs", "-j", min=1, help="Pages OCRed in parallel (default: all cores).")
]
NoCache = Annotated[bool, typer.Option("--no-cache", help="Ignore and do not write the OCR cache.")]
CacheDir = Annotated[
    Path | None, typer.Option("--cache-dir", help="OCR cache directory (default: the user cache dir).")
]
Lang = Annotated[str, typer.Option("--lang", help="Tesseract language(s), e.g. eng or eng+fra.")]
Psm = Annotated[
    int | None,
    typer.Option("--psm", min=0, max=13, help="Tesseract page segmentation mode (default: the tuned one)."),
]
PageTimeout = Annotated[
    float | None,
    typer.Option(
        "--page-timeout",
        min=1,
        help="Give up on a page after this many seconds (default: 10 s per megapixel, at least 120 s).",
    ),
]


class TextEquivLevel(str, Enum):
    line = "line"
    word = "word"


TextEquiv = Annotated[
    TextEquivLevel,
    typer.Option(
        "--textequiv-level",
        help="PAGE XML transcripts: each TextLine's own text (line) or its Words' (word).",
    ),
]

DictionaryLang = Annotated[
    str | None,
    typer.Option(
        "--dictionary",
        help="Language of the word list the evidence uses (eng, fra, deu, ..., eng+fra); "
        "default: --lang. 'none': no dictionary, only the lexicon.",
    ),
]
