"""``--format rdjsonl``: reviewdog's diagnostic format, one JSON object per line.

``reviewdog -f=rdjsonl`` reads it and posts the findings as review comments, the
suggestion as a suggested change. rdjson positions are 1-based lines and columns in
UTF-8 *bytes* with an exclusive end, so columns here are converted from the
characters ocr-fix counts (``Ă`` is one character, two bytes).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ocr_fix.fix import suggested_edit
from ocr_fix.model import Finding, Severity
from ocr_fix.pipeline import CheckResult
from ocr_fix.report.formats import RenderOptions, ReportFormat, display_path, shown
from ocr_fix.report.text import headline
from ocr_fix.transcript import Transcript

__all__ = ["RdjsonlFormat", "diagnostic"]

_SEVERITY = {Severity.ERROR: "ERROR", Severity.WARNING: "WARNING", Severity.INFO: "INFO"}
_POSITIONED = ("markdown", "text")


def _position(t: Transcript, offset: int) -> dict[str, int]:
    line, column = t.position(offset)
    start = t.line_starts[line - 1]
    return {"line": line, "column": len(t.text[start : start + column - 1].encode("utf-8")) + 1}


def _range(t: Transcript, start: int, end: int) -> dict[str, Any]:
    return {"start": _position(t, start), "end": _position(t, end)}


def diagnostic(f: Finding, r: CheckResult, path: str) -> dict[str, Any]:
    """One reviewdog ``Diagnostic`` for finding ``f``."""
    t = r.transcript
    positioned = t.kind in _POSITIONED
    location: dict[str, Any] = {"path": path}
    if positioned:
        location["range"] = (
            _range(t, f.transcript.start, f.transcript.end) if f.transcript else {"start": {"line": 1}}
        )
    out: dict[str, Any] = {
        "message": headline(f),
        "location": location,
        "severity": _SEVERITY[f.severity],
        "source": {"name": "ocr-fix"},
        "code": {"value": f.kind.value},
    }
    edit = suggested_edit(t.text, f) if positioned else None
    if edit is not None:
        out["suggestions"] = [{"range": _range(t, edit.start, edit.end), "text": edit.replacement}]
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
