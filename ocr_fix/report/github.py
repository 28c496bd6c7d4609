"""``--format github``: workflow commands that GitHub Actions shows as annotations.

One line per finding, errors first: ``::error file=F,line=L,col=C,endColumn=E,title=T::
message``. Only findings at or above ``--show`` are annotated (``info`` becomes a
``notice``). GitHub shows at most :data:`PER_LEVEL` annotations of each level per step
and drops the rest silently, so past that the last one of the level is a summary that
lists the findings it stands for, one ``FILE:LINE:COL`` line each. Findings with no
transcript position are annotated on line 1.
"""

from __future__ import annotations

from collections.abc import Sequence

from ocr_fix.model import Finding, Severity
from ocr_fix.pipeline import CheckResult
from ocr_fix.report.compact import compact_line
from ocr_fix.report.formats import RenderOptions, ReportFormat, display_path, shown
from ocr_fix.report.text import headline
from ocr_fix.report.visible import visible

__all__ = ["PER_LEVEL", "GithubFormat", "annotation"]

#: Annotations GitHub displays per level (error, warning, notice) and step.
PER_LEVEL = 10

_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def _escape_data(s: str) -> str:
    return s.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_prop(s: str) -> str:
    return _escape_data(s).replace(":", "%3A").replace(",", "%2C")


def annotation(f: Finding, file: str) -> str:
    t = f.transcript
    props = [f"file={_escape_prop(file)}", f"line={t.line if t else 1}"]
    if t:
        props.append(f"col={t.column}")
        if t.end_line is None and t.end_column > t.column:
            props.append(f"endColumn={t.end_column}")
    props.append(f"title={_escape_prop('ocr-fix ' + f.kind.value)}")
    return f"::{_LEVEL[f.severity]} {','.join(props)}::{_escape_data(visible(headline(f)))}"


def _summary(severity: Severity, rest: Sequence[tuple[Finding, str]]) -> str:
    level = _LEVEL[severity]
    plural = "s" if len(rest) != 1 else ""
    head = (
        f"{len(rest)} more {severity.value} finding{plural} (GitHub shows {PER_LEVEL} annotations per level):"
    )
    body = "\n".join([head, *(compact_line(f, path) for f, path in rest)])
    title = _escape_prop(f"ocr-fix: {len(rest)} more {severity.value}{plural}")
    return f"::{level} title={title}::{_escape_data(body)}"


class GithubFormat(ReportFormat):
    name = "github"

    def render(self, results: Sequence[CheckResult], options: RenderOptions) -> str:
        items = [
            (f, display_path(r.transcript.path, options.root))
            for r in results
            for f in shown(r.findings, options)
        ]
        lines: list[str] = []
        for severity in (Severity.ERROR, Severity.WARNING, Severity.INFO):
            level = [(f, path) for f, path in items if f.severity is severity]
            if len(level) <= PER_LEVEL:
                lines += [annotation(f, path) for f, path in level]
                continue
            lines += [annotation(f, path) for f, path in level[: PER_LEVEL - 1]]
            lines.append(_summary(severity, level[PER_LEVEL - 1 :]))
        return "".join(line + "\n" for line in lines)
