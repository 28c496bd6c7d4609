"""Findings a project has already judged: fingerprints, baselines and accepted spellings.

A **fingerprint** names a finding by what it is about, not by where it sits: its kind,
the transcript text, the words around it, and what the scan reads there. Offsets,
line numbers and severities are left out, so editing another part of the file (which
moves every later finding) or recalibrating severities keeps a judged finding judged,
while changing the words at the finding (fixing it, or breaking it differently) does
not. The same text in the same context twice is two findings with one fingerprint;
a baseline counts them.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import unquote

from ocr_fix.errors import BadInput, InputNotFound
from ocr_fix.model import Finding

__all__ = [
    "CONTEXT_WORDS",
    "FINGERPRINT_KEY",
    "Baseline",
    "context",
    "drop_accepted",
    "fingerprint",
    "load_baseline",
    "read_ignore_file",
    "report_path",
]

#: Words of context taken on each side of a finding. Three tell apart repeated phrases
#: in typed documents while an edit four words away still leaves the finding matched.
CONTEXT_WORDS = 3
#: Key of the fingerprint in SARIF ``partialFingerprints``; the version changes when
#: what goes into a fingerprint does.
FINGERPRINT_KEY = "ocrFixContext/v1"

_REACH = 400  # characters searched for context words on each side
_PARAGRAPH = re.compile(r"\n[ \t\r\f]*\n")


def _squash(text: str) -> str:
    return " ".join(text.split())


def context(text: str, start: int, end: int, words: int = CONTEXT_WORDS) -> tuple[str, str]:
    """Up to ``words`` whitespace-separated words before ``start`` and after ``end``,
    within the paragraph (a blank line ends it: a paragraph added or removed next to a
    finding does not change it).

    A span that begins or ends inside a word takes the rest of that word as context
    (``34-197845`` with the span ``4``: before ``3``, after ``-197845``).
    """
    before = _PARAGRAPH.split(text[max(0, start - _REACH) : start])[-1]
    after = _PARAGRAPH.split(text[end : end + _REACH])[0]
    head = before.split()
    tail = after.split()
    return " ".join(head[-words:] if words else []), " ".join(tail[:words])


def fingerprint(f: Finding, text: str) -> str:
    """A stable name for finding ``f`` of a transcript whose text is ``text``."""
    parts = [f.kind.value]
    if f.transcript is not None:
        before, after = context(text, f.transcript.start, f.transcript.end)
        parts += [_squash(f.transcript.text), before, after]
    if f.scan is not None:
        parts.append(_squash(f.scan.text))
    if f.transcript is None and f.scan is None:
        parts.append(f.suggestion)
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()
    return digest[:24]


@dataclass(frozen=True)
class Baseline:
    """Fingerprints of accepted findings, counted per transcript path (as reported)."""

    counts: Counter[tuple[str, str]]

    @classmethod
    def of(cls, items: Iterable[tuple[str, str]]) -> Baseline:
        return cls(Counter(items))

    def __len__(self) -> int:
        return sum(self.counts.values())

    def filter(self, path: str | Path, findings: Sequence[Finding], text: str) -> tuple[list[Finding], int]:
        """``findings`` of the transcript at ``path`` minus those in the baseline, and
        how many were dropped. Each baseline entry suppresses one finding."""
        name = report_path(path)
        left = Counter({fp: n for (p, fp), n in self.counts.items() if p == name})
        kept: list[Finding] = []
        for f in findings:
            fp = fingerprint(f, text)
            if left[fp] > 0:
                left[fp] -= 1
            else:
                kept.append(f)
        return kept, len(findings) - len(kept)


def report_path(path: str | Path) -> str:
    """How a baseline names a transcript: its path relative to the current directory
    with ``/`` separators (as given when it lies outside), so a report written from the
    repository root matches a later run from there on any machine."""
    p = Path(path)
    absolute = Path(os.path.abspath(p))
    try:
        return absolute.relative_to(Path.cwd()).as_posix()
    except ValueError:
        return absolute.as_posix() if p.is_absolute() else PurePosixPath(os.path.normpath(p)).as_posix()


def load_baseline(path: Path) -> Baseline:
    """The findings of a previous report: ``--format json`` (one transcript or several)
    or ``--format sarif``. Raises :class:`BadInput` for anything else, or for a report
    without fingerprints."""
    path = Path(path)
    if not path.exists():
        raise InputNotFound(path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadInput(f"baseline is not a JSON or SARIF report ({type(exc).__name__})", path) from None
    if isinstance(doc, dict) and "runs" in doc and "version" in doc:
        return Baseline.of(_sarif_items(doc, path))
    many = isinstance(doc, dict) and isinstance(doc.get("results"), list)
    docs = doc["results"] if many else [doc]
    items: list[tuple[str, str]] = []
    for d in docs:
        if not (isinstance(d, dict) and str(d.get("schema", "")).startswith("ocr-fix/check/")):
            raise BadInput("baseline is not an ocr-fix JSON report or a SARIF file", path)
        name = report_path(str(d.get("transcript", "")))
        for f in d.get("findings") or ():
            fp = f.get("fingerprint") if isinstance(f, dict) else None
            if not isinstance(fp, str):
                raise BadInput("baseline findings have no fingerprint; write one with --write-baseline", path)
            items.append((name, fp))
    return Baseline.of(items)


def _sarif_items(doc: dict[str, Any], path: Path) -> list[tuple[str, str]]:
    items: list[tuple[str, str]] = []
    for run in doc.get("runs") or ():
        for res in run.get("results") or ():
            fp = (res.get("partialFingerprints") or {}).get(FINGERPRINT_KEY)
            locations = res.get("locations") or [{}]
            uri = locations[0].get("physicalLocation", {}).get("artifactLocation", {}).get("uri")
            if not isinstance(fp, str) or not isinstance(uri, str):
                raise BadInput(f"SARIF result without an {FINGERPRINT_KEY} fingerprint or a location", path)
            items.append((report_path(unquote(uri)), fp))
    return items


#: Stripped from both ends of a transcript span before it is compared with an accepted
#: spelling: ``Konoye's,`` is the spelling ``Konoye's``.
_EDGE_PUNCT = "\"'\u201c\u201d\u2018\u2019()[]{}.,;:!?*_\u00ab\u00bb"


def read_ignore_file(path: Path) -> tuple[str, ...]:
    """Accepted spellings, one a line; ``#`` starts a comment, blank lines are skipped."""
    path = Path(path)
    if not path.exists():
        raise InputNotFound(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise BadInput("ignore file is not UTF-8 text", path) from None
    out = []
    for line in text.splitlines():
        word = line.split("#", 1)[0].strip()
        if word:
            out.append(word)
    return tuple(out)


def drop_accepted(findings: Sequence[Finding], spellings: Iterable[str]) -> tuple[list[Finding], int]:
    """``findings`` without those whose transcript text is an accepted spelling (compared
    without case and without the punctuation around it), and how many those were.
    Findings about missing text (omissions) have no spelling and are kept."""
    accepted = {s.strip(_EDGE_PUNCT).casefold() for s in spellings} - {""}
    kept = [
        f
        for f in findings
        if f.transcript is None
        or not f.transcript.text.strip()
        or f.transcript.text.strip().strip(_EDGE_PUNCT).casefold() not in accepted
    ]
    return kept, len(findings) - len(kept)
