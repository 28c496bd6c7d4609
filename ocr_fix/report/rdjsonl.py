"""``--format rdjsonl``: reviewdog's diagnostic format, one JSON object per line.

``reviewdog -f=rdjsonl`` reads it and posts the findings as review comments, the
suggestion as a suggested change (markdown and plain text). rdjson positions are 1-based
lines and columns in UTF-8 *bytes* with an exclusive end, so columns here are converted
from the characters ocr-fix counts (``Ă`` is one character, two bytes); for XML
transcripts they are positions in the XML file.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ocr_fix.fix import suggested_edit
from ocr_fix.model import Finding, Severity, TranscriptSpan
from ocr_fix.pipeline import CheckResult
from ocr_fix.report.formats import RenderOptions, ReportFormat, display_path, shown
from ocr_fix.report.text import headline
from ocr_fix.transcript import Transcript

__all__ = ["RdjsonlFormat", "diagnostic"]

_SEVERITY = {Severity.ERROR: "ERROR", Severity.WARNING: "WARNING", Severity.INFO: "INFO"}
_PLAIN = ("markdown", "text")  # the checked text is the file itself


def _byte_column(t: Transcript, line: int, column: int) -> int:
    """The UTF-8 byte column of character ``column`` on ``line`` of the file."""
    if t.source is not None:  # XML: positions are in the XML file
        starts, text = t.source.file_line_starts, t.source.file_text
    else:
        starts, text = t.line_starts, t.text
    if not 1 <= line <= len(starts):
        return column
    start = starts[line - 1]
    return len(text[start : start + column - 1].encode("utf-8")) + 1


def _span_range(t: Transcript, span: TranscriptSpan) -> dict[str, Any]:
    end_line = span.end_line or span.line
    return {
        "start": {"line": span.line, "column": _byte_column(t, span.line, span.column)},
        "end": {"line": end_line, "column": _byte_column(t, end_line, span.end_column)},
    }


def diagnostic(f: Finding, r: CheckResult, path: str) -> dict[str, Any]:
    """One reviewdog ``Diagnostic`` for finding ``f``."""
    t = r.transcript
    location: dict[str, Any] = {
        "path": path,
        "range": _span_range(t, f.transcript) if f.transcript else {"start": {"line": 1}},
    }
    out: dict[str, Any] = {
        "message": headline(f),
        "location": location,
        "severity": _SEVERITY[f.severity],
        "source": {"name": "ocr-fix"},
        "code": {"value": f.kind.value},
    }
    edit = suggested_edit(t.text, f) if t.kind in _PLAIN else None
    if edit is not None:
        span = t.span(edit.start, edit.end)
        out["suggestions"] = [{"range": _span_range(t, span), "text": edit.replacement}]
    return out


class RdjsonlFormat(ReportFormat):
    name = "rdjsonl"

    def render(self, results: Sequence[CheckResult], options: RenderOptions) -> str:
        root = options.root or Path.cwd()
        lines = [
            json.dumps(diagnostic(f, r, display_path(r.transcript.path, root)), ensure_ascii=False)
            for r in results
            for f in shown(r.findings, options)
        ]
        return "".join(line + "\n" for line in lines)
