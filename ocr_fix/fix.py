"""Apply the suggestions of a ``check`` run to the transcript, touching nothing else.

A transcript is somebody's edited document: markdown, line endings, trailing spaces and
a BOM are theirs. So ``fix`` never parses or rewrites it; it splices the accepted
suggestions into the decoded text at the character offsets ``check`` recorded and
re-encodes, which reproduces every other byte exactly. An XML transcript (ALTO, PAGE,
hOCR, TEI) is not rewritten either: each edit of its derived text becomes a splice into
the one attribute value (``CONTENT``) or text run (``Unicode``) it came from, escaped for
XML; markup, ids and every other value stay byte-identical. The findings file carries the
SHA-256 of the transcript it was made from; offsets into any other version would land
in the wrong place, so a changed transcript is refused rather than patched.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

from ocr_fix.errors import BadInput, InputNotFound, StaleFindings
from ocr_fix.model import Finding, Kind, Severity
from ocr_fix.transcript import SourceMap, XmlEditError, read_raw, transcript_from_bytes

SCHEMA = "ocr-fix/check/1"
#: A report of several transcripts (``check A.md B.md --format json``): ``results`` holds
#: one ``ocr-fix/check/1`` document each.
MANY_SCHEMA = "ocr-fix/checks/1"
_BOM = b"\xef\xbb\xbf"
_LINES = re.compile(r"[^\r\n]*(?:\r\n|\n|\r)|[^\r\n]+$")

#: Kinds whose suggestion replaces the transcript span (``insertion``: with nothing).
_REPLACING = frozenset({Kind.SUBSTITUTION, Kind.INSERTION, Kind.VARIANT, Kind.NONWORD})
_NO_SPACE_AFTER = "([{\"'“‘"  # noqa: RUF001 - typographic quotes are meant
_NO_SPACE_BEFORE = ".,;:!?)]}\"'”’"  # noqa: RUF001


@dataclass(frozen=True, slots=True)
class Candidate:
    """One finding of the JSON that names a transcript span."""

    index: int  # position in the findings file, 0-based
    severity: Severity
    kind: Kind
    start: int
    end: int
    text: str  # what the transcript had at [start:end] when checked
    suggestion: str
    line: int
    column: int
    end_line: int
    scan_text: str = ""
    confidence: float | None = None
    message: str = ""

    @property
    def applicable(self) -> bool:
        """Whether ``fix`` knows how to apply this finding at all."""
        if self.kind is Kind.INSERTION:
            return self.end > self.start
        if self.kind is Kind.OMISSION:
            return self.start == self.end and bool(self.suggestion.strip())
        return self.kind in _REPLACING and bool(self.suggestion) and self.end > self.start

    def label(self) -> str:
        return f"{self.line}:{self.column} {self.kind.value} {self.text!r} -> {self.suggestion!r}"


@dataclass(frozen=True, slots=True)
class Findings:
    """The parts of an ``ocr-fix/check/1`` document that ``fix`` uses."""

    transcript: str
    sha256: str
    candidates: tuple[Candidate, ...]
    unplaced: int  # findings without a transcript position or suggestion (never applied)


@dataclass(frozen=True, slots=True)
class Source:
    """A transcript file as bytes and as the text the offsets refer to.

    For an XML transcript ``text`` is its derived text and ``xml`` maps it back to the
    file (:class:`ocr_fix.transcript.SourceMap`); edits are then spliced into the
    attribute values and text runs they came from, and ``file_text`` is the XML."""

    path: Path
    raw: bytes
    text: str
    bom: bool
    xml: SourceMap | None = None

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.raw).hexdigest()

    @property
    def file_text(self) -> str:
        return self.xml.file_text if self.xml is not None else self.text

    def encode(self, file_text: str) -> bytes:
        if self.xml is not None:
            return self.xml.encode(file_text)
        return (_BOM if self.bom else b"") + file_text.encode("utf-8")


@dataclass(frozen=True, slots=True)
class Edit:
    start: int
    end: int
    replacement: str
    candidate: Candidate
    #: XML transcripts: the same edit as splices ``(start, end, escaped text)`` of the file.
    splices: tuple[tuple[int, int, str], ...] = ()


class Decision(str, Enum):
    ACCEPT = "accept"
    SKIP = "skip"
    QUIT = "quit"


@dataclass(frozen=True, slots=True)
class Skipped:
    candidate: Candidate
    reason: str


@dataclass(frozen=True, slots=True)
class FixResult:
    source: Source
    text: str  # fixed text (BOM excluded, like ``source.text``)
    applied: tuple[Edit, ...]  # in file order
    skipped: tuple[Skipped, ...]

    @property
    def file_text(self) -> str:
        """The fixed file: ``text`` itself, or the XML with the edits spliced in."""
        if self.source.xml is None:
            return self.text
        out = self.source.xml.file_text
        splices = sorted((sp for e in self.applied for sp in e.splices), reverse=True)
        for start, end, repl in splices:
            out = out[:start] + repl + out[end:]
        return out

    @property
    def data(self) -> bytes:
        return self.source.encode(self.file_text)

    @property
    def changed(self) -> bool:
        return self.text != self.source.text


#: Asked once per candidate; returns the decision and, for an accept, the replacement
#: text (``None``: the candidate's own suggestion).
Decide = Callable[[Candidate], tuple[Decision, str | None]]


def accept_all(candidate: Candidate) -> tuple[Decision, str | None]:
    return Decision.ACCEPT, None


def read_source(path: Path, textequiv_level: str = "line") -> Source:
    """Read a transcript (``-``: stdin) the way ``check`` decoded it."""
    path = Path(path)
    raw = read_raw(path)
    transcript = transcript_from_bytes(raw, path, textequiv_level)  # same validation as check
    return Source(path, raw, transcript.text, raw.startswith(_BOM), transcript.source)


def load_findings(path: Path, source: Source | None = None) -> Findings:
    """Parse and validate an ``ocr-fix/check/1`` JSON file, or pick ``source``'s document
    out of an ``ocr-fix/checks/1`` file (see :func:`findings_from_dict`)."""
    path = Path(path)
    if not path.exists():
        raise InputNotFound(path)
    if path.is_dir():
        raise BadInput("is a directory, not a findings file", path)
    try:
        doc = json.loads(path.read_bytes().decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise BadInput(
            "not a JSON findings file (make one with: ocr-fix check --format json)", path
        ) from None
    return findings_from_dict(doc, path, source)


def _one_of_many(results: list[Any], path: Path, source: Source | None) -> Any:
    """The document of ``results`` made from ``source``: the one with its SHA-256, else
    the one naming its path (then refused as stale); the only one without ``source``."""
    docs = [d for d in results if isinstance(d, dict)]
    if source is None:
        if len(docs) == 1:
            return docs[0]
        raise BadInput(f"holds the findings of {len(docs)} transcripts; name one", path)
    same = [d for d in docs if d.get("transcript_sha256") == source.sha256]
    if same:
        return same[0]
    named = [d for d in docs if Path(str(d.get("transcript", ""))).resolve() == source.path.resolve()]
    if named:
        return named[0]
    raise BadInput(f"has no findings for {source.path}", path)


def findings_from_dict(doc: Any, path: Path | str = "findings", source: Source | None = None) -> Findings:
    """Validate an already-parsed ``ocr-fix/check/1`` document (``path`` names it in errors);
    from an ``ocr-fix/checks/1`` document, the one of ``source``."""
    path = Path(path)
    if isinstance(doc, dict) and doc.get("schema") == MANY_SCHEMA and isinstance(doc.get("results"), list):
        doc = _one_of_many(doc["results"], path, source)
    if not isinstance(doc, dict) or doc.get("schema") != SCHEMA:
        raise BadInput(
            f"not an {SCHEMA} findings file (schema: {_schema(doc)!r}); make one with check --format json",
            path,
        )
    digest, findings = doc.get("transcript_sha256"), doc.get("findings")
    if not isinstance(digest, str) or not isinstance(findings, list):
        raise BadInput("findings file lacks transcript_sha256 or findings", path)
    candidates: list[Candidate] = []
    unplaced = 0
    for i, item in enumerate(findings):
        cand = _candidate(i, item, path)
        if cand is None:
            unplaced += 1
        else:
            candidates.append(cand)
    return Findings(str(doc.get("transcript", "")), digest, tuple(candidates), unplaced)


def _schema(doc: Any) -> Any:
    return doc.get("schema") if isinstance(doc, dict) else type(doc).__name__


def _candidate(i: int, item: Any, path: Path) -> Candidate | None:
    def bad(what: str) -> BadInput:
        return BadInput(f"finding {i + 1}: {what}", path)

    if not isinstance(item, dict):
        raise bad("not an object")
    try:
        severity, kind = Severity(item.get("severity")), Kind(item.get("kind"))
    except ValueError:
        raise bad(f"unknown severity {item.get('severity')!r} or kind {item.get('kind')!r}") from None
    t, s = item.get("transcript"), item.get("scan")
    suggestion = item.get("suggestion", "")
    if not isinstance(suggestion, str):
        raise bad("suggestion is not a string")
    if t is None:
        return None
    if not isinstance(t, dict):
        raise bad("transcript is not an object")
    start, end, text, line, col = (t.get(k) for k in ("offset", "end_offset", "text", "line", "column"))
    ints = [v for v in (start, end, line, col) if isinstance(v, int) and not isinstance(v, bool)]
    if len(ints) != 4 or not isinstance(text, str) or not 0 <= ints[0] <= ints[1]:
        raise bad("transcript position needs integer offset <= end_offset, line, column and text")
    start, end, line, col = ints
    raw_end_line = t.get("end_line")
    end_line = raw_end_line if isinstance(raw_end_line, int) else line
    scan_text: str = ""
    conf: float | None = None
    if isinstance(s, dict):
        raw_text, raw_conf = s.get("text"), s.get("confidence")
        scan_text = raw_text if isinstance(raw_text, str) else ""
        conf = float(raw_conf) if isinstance(raw_conf, (int, float)) else None
    raw_message = item.get("message")
    message = raw_message if isinstance(raw_message, str) else ""
    return Candidate(
        i, severity, kind, start, end, text, suggestion, line, col, end_line, scan_text, conf, message
    )


def ensure_fresh(source: Source, findings: Findings) -> None:
    """Refuse findings made from another version of the transcript."""
    if source.sha256 != findings.sha256:
        raise StaleFindings(
            "transcript changed since the findings were made (sha256 differs); run ocr-fix check again",
            source.path,
        )


def priority(candidates: Iterable[Candidate]) -> list[Candidate]:
    """Who wins an overlap: higher severity first, then earlier in the findings file."""
    return sorted(candidates, key=lambda c: (-c.severity.rank, c.index))


def _overlaps(a: Candidate | Edit, b: Edit) -> bool:
    if a.start == a.end and b.start == b.end:
        return a.start == b.start
    if a.start == a.end:
        return b.start < a.start < b.end
    if b.start == b.end:
        return a.start < b.start < a.end
    return a.start < b.end and b.start < a.end


def _replacement(text: str, cand: Candidate, words: str) -> str:
    """The text that goes into ``[start:end]``; omissions get the spaces they need."""
    if cand.kind is not Kind.OMISSION:
        return words
    words = words.strip()
    before = text[cand.start - 1] if cand.start > 0 else ""
    after = text[cand.start] if cand.start < len(text) else ""
    if before and not before.isspace() and before not in _NO_SPACE_AFTER:
        words = " " + words
    if after and not after.isspace() and after not in _NO_SPACE_BEFORE:
        words = words + " "
    return words


def plan(
    source: Source,
    candidates: Sequence[Candidate],
    accept: Severity,
    decide: Decide = accept_all,
    order: Callable[[Iterable[Candidate]], list[Candidate]] = priority,
) -> FixResult:
    """Choose the edits and apply them.

    Candidates below ``accept`` or of a kind that cannot be applied are left out
    silently (they are not suggestions); the rest are offered to ``decide`` in ``order``
    unless they overlap an edit already taken or the transcript no longer reads as the
    finding says, which is reported in ``skipped``.
    """
    text = source.text
    edits: list[Edit] = []
    skipped: list[Skipped] = []
    wanted = [c for c in candidates if c.severity.rank >= accept.rank and c.applicable]
    quit_ = False
    for cand in order(wanted):
        if quit_:
            skipped.append(Skipped(cand, "not asked (quit)"))
            continue
        if cand.end > len(text) or text[cand.start : cand.end] != cand.text:
            skipped.append(Skipped(cand, f"transcript does not read {cand.text!r} there"))
            continue
        clash = next((e for e in edits if _overlaps(cand, e)), None)
        if clash is not None:
            skipped.append(
                Skipped(cand, f"overlaps the fix at {clash.candidate.line}:{clash.candidate.column}")
            )
            continue
        splices: tuple[tuple[int, int, str], ...] = ()
        if source.xml is not None:
            try:  # before asking: an edit the XML cannot take is not offered
                splices = tuple(
                    source.xml.file_edits(cand.start, cand.end, _replacement(text, cand, cand.suggestion))
                )
            except XmlEditError as exc:
                skipped.append(Skipped(cand, str(exc)))
                continue
        decision, words = decide(cand)
        if decision is Decision.QUIT:
            quit_ = True
            skipped.append(Skipped(cand, "not asked (quit)"))
            continue
        if decision is Decision.SKIP:
            skipped.append(Skipped(cand, "skipped"))
            continue
        replacement = _replacement(text, cand, cand.suggestion if words is None else words)
        if source.xml is not None:
            try:
                splices = tuple(source.xml.file_edits(cand.start, cand.end, replacement))
            except XmlEditError as exc:
                skipped.append(Skipped(cand, str(exc)))
                continue
        edits.append(Edit(cand.start, cand.end, replacement, cand, splices))
    return FixResult(
        source, apply_edits(text, edits), tuple(sorted(edits, key=lambda e: (e.start, e.end))), tuple(skipped)
    )


def apply_edits(text: str, edits: Iterable[Edit]) -> str:
    """Splice non-overlapping edits into ``text``, last first so offsets stay valid."""
    out = text
    for e in sorted(edits, key=lambda e: (e.start, e.end), reverse=True):
        out = out[: e.start] + e.replacement + out[e.end :]
    return out


def split_lines(text: str) -> list[str]:
    """Lines with their endings; ``\\r\\n``, ``\\n`` and ``\\r`` only (not ``\\f``)."""
    return _LINES.findall(text)


def unified_diff(old: str, new: str, name: str) -> str:
    """A ``diff -u`` / ``git diff`` style patch between two versions of ``name``."""
    name = name.lstrip("/")
    out: list[str] = []
    for row in difflib.unified_diff(split_lines(old), split_lines(new), f"a/{name}", f"b/{name}"):
        if row.endswith(("\n", "\r")):
            out.append(row)
        else:
            out.append(row + "\n\\ No newline at end of file\n")
    return "".join(out)


def changed_lines(old: str, new: str) -> set[int]:
    """1-based line numbers of ``old`` that differ in ``new`` (deleted or replaced)."""
    a, b = split_lines(old), split_lines(new)
    out: set[int] = set()
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    for tag, i1, i2, _j1, _j2 in matcher.get_opcodes():
        if tag in ("replace", "delete"):
            out.update(range(i1 + 1, i2 + 1))
        elif tag == "insert":
            out.add(max(i1, 1))
    return out


def suggested_edit(text: str, finding: Finding) -> Edit | None:
    """The edit ``fix`` makes when it accepts ``finding`` of a transcript reading
    ``text`` (omissions with the spaces they need), or None when it would not apply it.
    Reports that carry fixes (SARIF, reviewdog) offer exactly this edit."""
    t = finding.transcript
    if t is None:
        return None
    cand = Candidate(
        0,
        finding.severity,
        finding.kind,
        t.start,
        t.end,
        t.text,
        finding.suggestion,
        t.line,
        t.column,
        t.end_line or t.line,
    )
    if not cand.applicable or text[t.start : t.end] != t.text:
        return None
    return Edit(t.start, t.end, _replacement(text, cand, finding.suggestion), cand)
