"""``--format table`` (default): findings grouped by scan page, for a person at a terminal."""

from __future__ import annotations

import io
from collections import defaultdict
from collections.abc import Sequence

from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from ocr_fix.model import Finding, Kind, Severity
from ocr_fix.pipeline import CheckResult
from ocr_fix.report.formats import RenderOptions, ReportFormat, display_path
from ocr_fix.report.visible import visible

#: Findings about whole stretches: their message says more than their text.
_WHOLE_RANGE = frozenset({Kind.NO_SCAN, Kind.MISMATCH, Kind.UNTRANSCRIBED, Kind.PAGE_ORDER})
_STYLE = {Severity.ERROR: "bold red", Severity.WARNING: "yellow", Severity.INFO: "dim"}


def _where(f: Finding) -> str:
    t = f.transcript
    return f"{t.line}:{t.column}" if t else "-"


def _word_view(raw: str, f: Finding) -> tuple[Text, Text]:
    """The transcript word(s) around the finding with the span marked, and the same
    words with the suggestion in place: ``34-197845,`` -> ``3H-197845,`` reads better
    than ``4`` -> ``H``."""
    t = f.transcript
    if t is None or f.kind in _WHOLE_RANGE:
        return Text(visible(f.message)), Text(visible(f.suggestion), style="green")
    lo, hi = t.start, t.end
    while lo > 0 and not raw[lo - 1].isspace():
        lo -= 1
    while hi < len(raw) and not raw[hi].isspace():
        hi += 1
    before, span, after = visible(raw[lo : t.start]), visible(raw[t.start : t.end]), visible(raw[t.end : hi])
    suggestion = visible(f.suggestion)
    if not span and not before and not after:  # an omission between words
        return Text("^", style="bold red"), Text(suggestion, style="green")
    shown = Text(before)
    shown.append(span or "^", style="bold red")
    shown.append(after)
    fixed = Text(before)
    fixed.append(suggestion, style="bold green")
    fixed.append(after)
    return shown, fixed


def _table(title: str, findings: list[Finding], raw: str) -> Table:
    table = Table(title=Text(title), title_justify="left", expand=False, show_lines=False)
    table.add_column("severity", no_wrap=True)
    table.add_column("kind", no_wrap=True)
    table.add_column("transcript", no_wrap=True)
    table.add_column("text", overflow="fold")
    table.add_column("scan", no_wrap=True)
    table.add_column("scan shows", overflow="fold")
    table.add_column("conf", justify="right", no_wrap=True)
    table.add_column("suggestion", overflow="fold")
    for f in findings:
        style = _STYLE[f.severity]
        s = f.scan
        shown, fixed = _word_view(raw, f)
        table.add_row(
            Text(f.severity.value, style=style),
            f.kind.value,
            _where(f),
            shown,
            f"p{s.page} l{s.line}" if s else "-",
            Text(visible(s.text) if s else ""),
            f"{s.confidence:.0f}" if s else "",
            fixed,
        )
    return table


def summary_line(r: CheckResult) -> Text:
    counts = {s: r.count(s) for s in Severity}
    line = Text()
    for s in Severity:
        line.append(
            f"{counts[s]} {s.value}{'s' if counts[s] != 1 else ''}", style=_STYLE[s] if counts[s] else ""
        )
        line.append("  ")
    if r.agreement is not None:
        line.append(f"{len(r.pages)} page(s), {r.agreement:.1%} of scan words agree")
        cers = [p.cer for p in r.pages if p.cer is not None]
        if cers:
            line.append(f", scan-vs-transcript CER {sum(cers) / len(cers):.2%}")
    else:
        line.append(f"lexicon-only ({r.lexicon_terms} lexicon entries)")
    return line


def render(r: CheckResult, console: Console, min_severity: Severity = Severity.INFO) -> None:
    shown = [f for f in r.findings if f.severity.rank >= min_severity.rank]
    groups: dict[int | None, list[Finding]] = defaultdict(list)
    for f in shown:
        groups[f.scan.page if f.scan else None].append(f)
    parts = []
    images = {p.page: p.image for p in r.pages}
    for page in sorted(groups, key=lambda p: (p is None, p or 0)):
        title = f"page {page} ({visible(images.get(page, ''))})" if page is not None else "whole document"
        parts.append(_table(title, groups[page], r.transcript.text))
    if parts:
        console.print(Group(*parts))
    hidden = len(r.findings) - len(shown)
    line = summary_line(r)
    if hidden:
        line.append(f"  ({hidden} below {min_severity.value} not shown; --show info)", style="dim")
    console.print(line)


class TableFormat(ReportFormat):
    """The terminal view; with several transcripts, one section each under its path."""

    name = "table"

    def render(self, results: Sequence[CheckResult], options: RenderOptions) -> str:
        buf = io.StringIO()
        console = Console(
            file=buf, force_terminal=options.color, width=None if options.color else 160, highlight=False
        )
        for r in results:
            if len(results) > 1:
                console.rule(
                    Text(visible(display_path(r.transcript.path, options.root)), style="bold"), align="left"
                )
            render(r, console, options.show)
        return buf.getvalue()
