"""Which documents a batch checks: folders found under a root, or a manifest."""

from __future__ import annotations

import csv
import fnmatch
import io
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from ocr_fix.errors import BadInput, InputNotFound
from ocr_fix.scans import SCAN_SUFFIXES, natural_key

if TYPE_CHECKING:
    pass

DOC_LEXICON = "lexicon.txt"
#: A document folder's transcript: markdown, text, or ALTO / PAGE / hOCR / TEI (by content).
TRANSCRIPT_NAMES = ("transcript.md", "transcript.txt", "transcript.xml", "transcript.hocr")


@dataclass(frozen=True, slots=True)
class Document:
    """One unit of work: a transcript and its scans, named by ``id`` (a relative path).

    ``problem`` is set when discovery already knows the document cannot be checked
    (no transcript, two transcripts); it is reported as the failure reason.
    """

    id: str
    transcript: Path | None
    scans: tuple[Path, ...]
    lexicon: Path | None = None
    problem: str | None = None


# --------------------------------------------------------------------------- discovery


def discover(root: Path, transcript_glob: str | None = None, exclude: Sequence[Path] = ()) -> list[Document]:
    """Every folder under ``root`` (itself included) holding scans or a transcript.

    Hidden folders and ``exclude`` (the output folder when it lies inside ``root``) are
    skipped; folders with neither scans nor a transcript are not documents.
    """
    root = Path(root)
    if not root.exists():
        raise InputNotFound(root)
    if not root.is_dir():
        raise BadInput("not a directory", root)
    skip = {p.resolve() for p in exclude}
    docs: list[Document] = []
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        dirnames[:] = sorted(
            d for d in dirnames if not d.startswith(".") and (here / d).resolve() not in skip
        )
        files = sorted(f for f in filenames if not f.startswith(".") and (here / f).is_file())
        scans = tuple(
            here / f for f in sorted(files, key=natural_key) if Path(f).suffix.lower() in SCAN_SUFFIXES
        )
        transcripts = [f for f in files if _is_transcript(f, transcript_glob)]
        if not scans and not transcripts:
            continue
        doc_id = here.relative_to(root).as_posix()
        lexicon = here / DOC_LEXICON if DOC_LEXICON in files else None
        problem = None
        if not transcripts:
            problem = "no transcript" + (
                f" matching {transcript_glob}" if transcript_glob else f" ({' or '.join(TRANSCRIPT_NAMES)})"
            )
        elif len(transcripts) > 1:
            problem = f"several transcripts ({', '.join(transcripts)})"
        elif not scans:
            problem = "no page images (PNG, JPEG, TIFF, PDF)"
        transcript = here / transcripts[0] if len(transcripts) == 1 else None
        docs.append(Document(doc_id, transcript, scans, lexicon, problem))
    return docs


def _is_transcript(name: str, pattern: str | None) -> bool:
    if pattern is None:
        return name in TRANSCRIPT_NAMES
    return fnmatch.fnmatchcase(name, pattern) and Path(name).suffix.lower() not in SCAN_SUFFIXES


def read_manifest(path: Path) -> list[Document]:
    """Documents named by a CSV (header ``id,transcript,scans``) or JSONL manifest.

    ``scans`` is ``;``-separated; every path is relative to the manifest's folder. An
    optional ``lexicon`` column/key names a per-document lexicon.
    """
    path = Path(path)
    if not path.exists():
        raise InputNotFound(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (UnicodeDecodeError, OSError) as exc:
        raise BadInput(f"cannot read manifest ({type(exc).__name__})", path) from None
    rows: list[tuple[int, dict[str, Any]]] = []
    if path.suffix.lower() in (".jsonl", ".ndjson", ".json"):
        for n, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise BadInput(f"line {n}: not JSON ({exc.msg})", path) from None
            if not isinstance(row, dict):
                raise BadInput(f"line {n}: not a JSON object", path)
            rows.append((n, row))
    else:
        reader = csv.DictReader(io.StringIO(text))
        missing = {"id", "transcript", "scans"} - set(reader.fieldnames or ())
        if missing:
            raise BadInput(
                f"manifest header lacks {', '.join(sorted(missing))} (need id,transcript,scans)", path
            )
        rows = [(n, row) for n, row in enumerate(reader, start=2)]
    base = path.parent
    docs: list[Document] = []
    seen: set[str] = set()
    for n, row in rows:
        doc_id = str(row.get("id") or "").strip()
        if not doc_id:
            raise BadInput(f"line {n}: no id", path)
        pure = PurePosixPath(doc_id)
        if pure.is_absolute() or ".." in pure.parts:
            raise BadInput(f"line {n}: id {doc_id!r} must be a relative path without '..'", path)
        if doc_id in seen:
            raise BadInput(f"line {n}: duplicate id {doc_id!r}", path)
        seen.add(doc_id)
        transcript = str(row.get("transcript") or "").strip()
        raw_scans = row.get("scans") or ""
        parts = raw_scans if isinstance(raw_scans, list) else str(raw_scans).split(";")
        scans = tuple(base / str(p).strip() for p in parts if str(p).strip())
        lexicon = str(row.get("lexicon") or "").strip()
        docs.append(
            Document(
                doc_id,
                base / transcript if transcript else None,
                scans,
                base / lexicon if lexicon else None,
                None if transcript else "no transcript",
            )
        )
    return docs
