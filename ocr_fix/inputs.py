"""Which files a ``check`` call is about: transcripts, and the scans of each.

Positional arguments are told apart by file type, never by position: a directory or a
file with a page-image or PDF suffix is a scan, anything else (markdown, text, XML) a
transcript. So ``check T.md 01.png 02.png`` keeps meaning one transcript and its pages,
and ``check a.md b.md`` (what pre-commit passes) means two transcripts.

Scans named on the command line belong to the one transcript given. With several
transcripts, ``--scans auto`` takes each transcript's scans from its own folder (the
page images and PDFs there, by name — the rule ``batch`` uses for a document folder),
and ``--scans DIR`` looks for them in a tree under DIR that mirrors where the
transcripts are. A transcript without scans is checked lexicon-only.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ocr_fix.errors import InputNotFound, UsageError
from ocr_fix.scans import SCAN_SUFFIXES, natural_key

__all__ = ["AUTO", "Job", "is_scan", "plan_jobs", "scans_in"]

#: ``--scans auto``: each transcript's scans are the page images beside it.
AUTO = "auto"


@dataclass(frozen=True, slots=True)
class Job:
    """One transcript and the scans it is checked against (none: lexicon-only)."""

    transcript: Path
    scans: tuple[Path, ...]


def is_scan(path: Path) -> bool:
    """A directory, or a file whose suffix is a page image's or a PDF's."""
    return path.is_dir() or path.suffix.lower() in SCAN_SUFFIXES


def scans_in(folder: Path) -> tuple[Path, ...]:
    """The page images and PDFs directly in ``folder`` in natural name order, hidden files left out."""
    if not folder.is_dir():
        return ()
    return tuple(
        sorted(
            (
                p
                for p in folder.iterdir()
                if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in SCAN_SUFFIXES
            ),
            key=lambda p: natural_key(p.name),
        )
    )


def _mirrored(transcript: Path, root: Path, alone: bool) -> tuple[Path, ...]:
    """The scans of ``transcript`` under ``root``: ``root/<its folder>/<its stem>/``,
    then ``root/<its folder>/``, then ``root/<its stem>/``; ``root`` itself when it is
    the only transcript. Its folder is taken relative to the current directory."""
    candidates: list[Path] = []
    try:
        rel = Path(os.path.abspath(transcript.parent)).relative_to(Path.cwd())
    except ValueError:
        rel = None
    if rel is not None:
        candidates += [root / rel / transcript.stem, root / rel]
    candidates.append(root / transcript.stem)
    if alone:
        candidates.append(root)
    for folder in candidates:
        found = scans_in(folder)
        if found:
            return found
    return ()


def plan_jobs(paths: Sequence[Path], scans: str | None = None) -> list[Job]:
    """The transcripts among ``paths`` (in the order given, each once) with their scans.

    ``scans`` is ``--scans``: None (only scans given on the command line), ``auto``, or
    a directory. Raises :class:`UsageError` for a call that is ambiguous.
    """
    transcripts: list[Path] = []
    named: list[Path] = []
    for p in paths:
        (named if is_scan(p) else transcripts).append(p)
    if not transcripts:
        raise UsageError("no transcript given (a transcript is a .md, .txt or .xml file, not an image)")
    first: dict[str, Path] = {}
    for t in transcripts:
        first.setdefault(os.path.abspath(t), t)
    unique = list(first.values())
    if named and scans is not None:
        raise UsageError("give scans on the command line or with --scans, not both")
    if named and len(unique) > 1:
        raise UsageError("scans named on the command line need a single transcript; use --scans auto or DIR")
    if scans is None:
        return [Job(t, tuple(named)) for t in unique]
    if scans == AUTO:
        return [Job(t, scans_in(t.parent)) for t in unique]
    root = Path(scans)
    if not root.exists():
        raise InputNotFound(root)
    if not root.is_dir():
        raise UsageError(f"--scans must be 'auto' or a directory: {scans}")
    return [Job(t, _mirrored(t, root, len(unique) == 1)) for t in unique]
