"""``--format compact``: ``FILE:LINE:COL: severity kind: message``, one finding a line.

The shape compilers and linters print, so editors, ``grep`` and problem matchers read
it. Findings without a transcript position are reported at ``1:1``. Control characters
from the files are shown as escapes (:mod:`ocr_fix.report.visible`).
"""

from __future__ import annotations

from collections.abc import Sequence

from ocr_fix.model import Finding
from ocr_fix.pipeline import CheckResult
from ocr_fix.report.formats import RenderOptions, ReportFormat, display_path, shown
from ocr_fix.report.text import headline
from ocr_fix.report.visible import visible

__all__ = ["CompactFormat", "compact_line"]


def compact_line(f: Finding, path: str) -> str:
    t = f.transcript
    line, col = (t.line, t.column) if t else (1, 1)
    text = visible(" ".join(headline(f).split()))  # one line, no terminal controls
    return f"{visible(path)}:{line}:{col}: {f.severity.value} {f.kind.value}: {text}"


class CompactFormat(ReportFormat):
    name = "compact"

    def render(self, results: Sequence[CheckResult], options: RenderOptions) -> str:
        lines = [
            compact_line(f, display_path(r.transcript.path, options.root))
            for r in results
            for f in shown(r.findings, options)
        ]
        return "".join(line + "\n" for line in lines)
