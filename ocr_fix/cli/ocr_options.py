"""OCR options shared by ``ocr``, ``check`` and ``batch``: declared once, reused as
annotated parameters (Typer has no option groups)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

Jobs = Annotated[Optional[int], typer.Option("--jobs", "-j", min=1, help="Pages OCRed in parallel (default: all cores).")]  # noqa: UP007
NoCache = Annotated[bool, typer.Option("--no-cache", help="Ignore and do not write the OCR cache.")]
CacheDir = Annotated[Optional[Path], typer.Option("--cache-dir", help="OCR cache directory (default: the user cache dir).")]  # noqa: UP007
Lang = Annotated[str, typer.Option("--lang", help="Tesseract language(s), e.g. eng or eng+fra.")]
Psm = Annotated[Optional[int], typer.Option("--psm", min=0, max=13, help="Tesseract page segmentation mode (default: the tuned one).")]  # noqa: UP007
PageTimeout = Annotated[Optional[float], typer.Option("--page-timeout", min=1, help="Give up on a page after this many seconds.")]  # noqa: UP007
