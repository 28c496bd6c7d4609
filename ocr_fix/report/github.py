"""``--format github``: workflow commands that GitHub Actions shows as annotations.

One line per finding: ``::error file=F,line=L,col=C,endColumn=E,title=T::message``.
Findings with no transcript position are annotated on line 1 of the transcript.
"""

from __future__ import annotations

from ocr_fix.model import Finding, Severity
from ocr_fix.pipeline import CheckResult

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
    where = f"scan p{f.scan.page} l{f.scan.line}: " if f.scan else ""
    fix = f" -> {f.suggestion!r}" if f.suggestion else ""
    props.append(f"title={_escape_prop('ocr-fix ' + f.kind.value)}")
    return f"::{_LEVEL[f.severity]} {','.join(props)}::{_escape_data(where + f.message + fix)}"


def render(r: CheckResult) -> str:
    file = str(r.transcript.path)
    lines = [annotation(f, file) for f in r.findings]
    return "\n".join(lines) + ("\n" if lines else "")
