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
from ocr_fix.fileio import DIR_LOCK
from ocr_fix.scans import SCAN_SUFFIXES, natural_key

if TYPE_CHECKING:
    pass

DOC_LEXICON = "lexicon.txt"
#: A document folder's transcript: markdown, text, or ALTO / PAGE / hOCR / TEI (by content).
TRANSCRIPT_NAMES = ("transcript.md", "transcript.txt", "transcript.xml", "transcript.hocr")
#: Names the run itself writes in OUT (the summary, the lock, each document's findings):
#: no part of a document id may be one of them (tests keep this in step with
#: ``summary.SUMMARY`` and ``runner.FINDINGS``, which import this module).
RESERVED_NAMES = frozenset({"summary.jsonl", "findings.json", DIR_LOCK})
#: Longest part of a document id, in UTF-8 bytes (a file name on common file systems).
MAX_ID_PART = 255


def id_problem(doc_id: str, root: bool = False) -> str | None:
    """Why ``doc_id`` cannot name a folder under OUT, or None. An id is a relative path
    with ``/`` between its parts; ``root=True`` allows ``.`` (the archive root itself
    as a document, which :func:`discover` names so). Such a document is failed with this
    reason and never touches OUT beyond its summary line."""
    if root and doc_id == ".":
        return None
    if not doc_id:
        return "an empty id"
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in doc_id):
        return "an id with control characters"
    if "\\" in doc_id or PurePosixPath(doc_id).is_absolute():
        return "an id must be a relative path with '/' between its parts"
    for part in doc_id.split("/"):
        if part in ("", ".", ".."):
            return f"an id part may not be empty, '.' or '..' ({doc_id!r})"
        if part.startswith("."):
            return f"an id part may not start with '.' (reserved for the run's own files): {part!r}"
        if part in RESERVED_NAMES:
            return f"{part!r} is reserved for the run's own files in OUT"
        if len(part.encode("utf-8")) > MAX_ID_PART:
            return f"an id part is longer than {MAX_ID_PART} bytes"
    return None


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
    """Every folder under ``root`` (itself included) holding scans or a transcript (a
    transcript alone is a document too: it is checked lexicon-only).

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
        # A transcript without scans is checked lexicon-only, as `check` does with one.
        transcript = here / transcripts[0] if len(transcripts) == 1 else None
        bad_id = id_problem(doc_id, root=True)
        if bad_id is not None:
            problem = f"unusable document id: {bad_id}"
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
        if doc_id in seen:
            raise BadInput(f"line {n}: duplicate id {doc_id!r}", path)
        seen.add(doc_id)
        transcript = str(row.get("transcript") or "").strip()
        raw_scans = row.get("scans") or ""
        parts = raw_scans if isinstance(raw_scans, list) else str(raw_scans).split(";")
        scans = tuple(base / str(p).strip() for p in parts if str(p).strip())
        lexicon = str(row.get("lexicon") or "").strip()
        bad_id = id_problem(doc_id)
        problem = f"unusable document id (manifest line {n}): {bad_id}" if bad_id else None
        docs.append(
            Document(
                doc_id,
                base / transcript if transcript else None,
                scans,
                base / lexicon if lexicon else None,
                problem or (None if transcript else "no transcript"),
            )
        )
    return docs
