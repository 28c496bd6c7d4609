"""``summary.jsonl``: one line per finished document, and the keys a rerun resumes by."""

from __future__ import annotations

import hashlib
import io
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ocr_fix import __version__
from ocr_fix.batch.discovery import Document
from ocr_fix.pipeline import CheckOptions

if TYPE_CHECKING:
    pass

SUMMARY = "summary.jsonl"


@dataclass(frozen=True, slots=True)
class Outcome:
    """One line of ``summary.jsonl``."""

    document: str
    status: str  # "ok" | "failed"
    pages: int
    error: int
    warning: int
    info: int
    cer: float | None
    seconds: float
    key: str
    reason: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "document": self.document,
            "status": self.status,
            "pages": self.pages,
            "error": self.error,
            "warning": self.warning,
            "info": self.info,
            "cer": self.cer,
        }
        if self.reason is not None:
            out["reason"] = self.reason
        out["seconds"] = self.seconds
        out["key"] = self.key
        return out

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Outcome:
        return cls(
            str(d["document"]),
            str(d["status"]),
            int(d.get("pages", 0)),
            int(d.get("error", 0)),
            int(d.get("warning", 0)),
            int(d.get("info", 0)),
            d.get("cer"),
            float(d.get("seconds", 0.0)),
            str(d.get("key", "")),
            d.get("reason"),
        )


@dataclass(frozen=True)
class BatchResult:
    outcomes: tuple[Outcome, ...]  # this run's documents, in document order (skipped ones too)
    skipped: frozenset[str]  # ids resumed from an earlier run
    seconds: float

    @property
    def failed(self) -> tuple[Outcome, ...]:
        return tuple(o for o in self.outcomes if not o.ok)

    def total(self, attr: str) -> int:
        return sum(int(getattr(o, attr)) for o in self.outcomes)


# --------------------------------------------------------------------------- keys


#: CheckOptions is frozen: one shared default is safe.
_DEFAULT_CHECK = CheckOptions()


def document_key(
    doc: Document, lexicons: Sequence[Path], engine_token: str, options: CheckOptions = _DEFAULT_CHECK
) -> str:
    """sha256 over everything a document's findings depend on.

    Full content hashes, not size+mtime: hashing 20 page PNGs takes milliseconds next to
    seconds of OCR each (bench/bench_batch.py), and copies or touched files must not
    change the verdict. Missing files hash as absent so a broken document still gets a
    stable key.
    """
    digest = hashlib.sha256()

    def add(tag: str, data: bytes) -> None:
        digest.update(f"{tag}:{len(data)}:".encode())
        digest.update(data)

    add("tool", __version__.encode())
    add("engine", engine_token.encode())
    add("check", repr((options.triage, options.editorial_marks, options.accepted)).encode())
    for tag, path in [("transcript", doc.transcript), *(("lexicon", p) for p in (*lexicons, doc.lexicon))]:
        if path is not None:
            _add_file(digest, tag, path)
    for scan in doc.scans:
        _add_file(digest, f"scan {scan.name}", scan)
    return digest.hexdigest()


def _add_file(digest: Any, tag: str, path: Path) -> None:
    files = sorted(p for p in path.iterdir() if p.is_file()) if path.is_dir() else [path]
    for f in files:
        digest.update(f"{tag}|{f.name}|".encode())
        try:
            with f.open("rb") as fh:
                for chunk in iter(lambda: fh.read(1 << 20), b""):
                    digest.update(chunk)
        except OSError:
            digest.update(b"<unreadable>")


# --------------------------------------------------------------------------- summary


def read_summary(path: Path) -> dict[str, Outcome]:
    """The latest line per document of an existing summary; torn or foreign lines skipped."""
    out: dict[str, Outcome] = {}
    if not path.exists():
        return out
    with path.open("r", encoding="utf-8", errors="replace") as fh:
        for line in fh:
            try:
                data = json.loads(line)
                outcome = Outcome.from_dict(data)
            except (json.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError):
                continue
            out[outcome.document] = outcome
    return out


class SummaryLog:
    """Appends complete, fsynced lines: a killed run leaves only whole lines behind."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fh: io.TextIOWrapper | None = None

    def append(self, outcome: Outcome) -> None:
        if self._fh is None:
            self._fh = self.path.open("a", encoding="utf-8")
            if self._fh.tell() and not self._ends_with_newline():
                self._fh.write("\n")  # a torn last line from a crash stays on its own line
        self._fh.write(json.dumps(outcome.to_dict(), ensure_ascii=False) + "\n")
        self._fh.flush()
        os.fsync(self._fh.fileno())

    def _ends_with_newline(self) -> bool:
        with self.path.open("rb") as fh:
            fh.seek(-1, os.SEEK_END)
            return fh.read(1) == b"\n"

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None
