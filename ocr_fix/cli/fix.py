"""``ocr-fix fix``: apply the suggestions of a ``check --format json`` run."""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Iterable
from enum import Enum
from pathlib import Path

import typer
from rich.markup import escape
from rich.prompt import Prompt

from ocr_fix.cli import app
from ocr_fix.cli.common import err_console, handles_errors
from ocr_fix.cli.ocr_options import TextEquiv, TextEquivLevel
from ocr_fix.errors import UsageError
from ocr_fix.fileio import refuse_input_as_output, write_atomic
from ocr_fix.fix import (
    Candidate,
    Decision,
    FixResult,
    Source,
    ensure_fresh,
    load_findings,
    plan,
    read_source,
    unified_diff,
)
from ocr_fix.model import Severity
from ocr_fix.report.visible import visible
from ocr_fix.transcript import STDIN


class Accept(str, Enum):
    error = "error"
    warning = "warning"
    info = "info"


def _by_position(cands: Iterable[Candidate]) -> list[Candidate]:
    return sorted(cands, key=lambda c: (c.start, c.end, c.index))


def _context(source: Source, cand: Candidate) -> str:
    """The transcript line of ``cand`` with its span highlighted (rich markup)."""
    text = source.text
    line_start = max(text.rfind("\n", 0, cand.start), text.rfind("\r", 0, cand.start)) + 1
    ends = [i for i in (text.find("\n", cand.end), text.find("\r", cand.end)) if i >= 0]
    line_end = min(ends) if ends else len(text)
    span = text[cand.start : cand.end] or "^"
    return (
        escape(visible(text[line_start : cand.start]))
        + f"[reverse bold]{escape(visible(span))}[/]"
        + escape(visible(text[cand.end : line_end]))
    )


def _asker(source: Source, total: int):
    asked = [0]

    def decide(cand: Candidate) -> tuple[Decision, str | None]:
        asked[0] += 1
        con = err_console
        con.rule(
            f"{asked[0]}/{total}  {cand.severity.value} {cand.kind.value}  line {cand.line}:{cand.column}"
        )
        con.print(_context(source, cand), markup=True, highlight=False)
        conf = "?" if cand.confidence is None else f"{cand.confidence:.0f}"
        con.print(f"scan shows: {escape(repr(cand.scan_text))} (confidence {conf})", highlight=False)
        con.print(f"suggestion: {escape(repr(cand.suggestion))}", highlight=False)
        if cand.message:
            con.print(f"[dim]{escape(visible(cand.message))}[/]")
        answer = Prompt.ask(
            "accept / skip / edit / quit", choices=["a", "s", "e", "q"], default="s", console=con
        )
        if answer == "q":
            return Decision.QUIT, None
        if answer == "s":
            return Decision.SKIP, None
        if answer == "e":
            return Decision.ACCEPT, Prompt.ask("replacement text", console=con, default=cand.suggestion)
        return Decision.ACCEPT, None

    return decide


def _report(result: FixResult, unplaced: int, dry_run: bool) -> None:
    for s in result.skipped:
        if s.reason != "skipped":
            err_console.print(
                f"ocr-fix: skipped {escape(visible(s.candidate.label()))}: {escape(visible(s.reason))}",
                highlight=False,
            )
    extra = f"; {unplaced} finding(s) without a transcript fix" if unplaced else ""
    verb, note = (
        ("would apply", " (dry run: -o FILE or --in-place writes them)") if dry_run else ("applied", "")
    )
    err_console.print(
        f"ocr-fix: {verb} {len(result.applied)} fix(es), skipped {len(result.skipped)}{extra}{note}",
        highlight=False,
    )


@app.command()
@handles_errors
def fix(
    transcript: Path = typer.Argument(
        ..., help="The transcript the findings were made from (markdown or text)."
    ),
    findings: Path = typer.Option(..., "--findings", help="Output of: ocr-fix check --format json."),
    accept: Accept = typer.Option(Accept.error, "--accept", help="Apply findings at or above this severity."),
    interactive: bool = typer.Option(
        False, "--interactive", "-i", help="Ask about each fix: accept, skip, edit, quit."
    ),
    output: Path | None = typer.Option(
        None,
        "--output",
        "-o",
        help="Write the fixed transcript here (-: stdout, then the diff goes to stderr).",
    ),
    in_place: bool = typer.Option(False, "--in-place", help="Overwrite TRANSCRIPT, keeping TRANSCRIPT.bak."),
    diff: Path | None = typer.Option(None, "--diff", help="Write the unified diff here instead of stdout."),
    textequiv_level: TextEquiv = TextEquivLevel.line,
) -> None:
    """Apply the suggestions of accepted findings and nothing else.

    Example: ocr-fix fix transcript.md --findings findings.json --accept error -o fixed.md

    Every other byte of TRANSCRIPT (markdown, line endings, trailing spaces, BOM) stays.
    Without -o or --in-place this is a dry run that prints the diff. Exit 9 when the
    transcript changed since the findings were made, 4 for an unusable findings file.
    """
    if output is not None and in_place:
        raise UsageError("use either -o/--output or --in-place, not both")
    if in_place and transcript == STDIN:
        raise UsageError("--in-place needs a transcript file, not stdin")
    if interactive and transcript == STDIN:
        raise UsageError("--interactive reads answers from stdin; give the transcript as a file")
    backup = transcript.with_name(transcript.name + ".bak") if in_place else None
    refuse_input_as_output([output if output != STDIN else None, diff, backup], [transcript, findings])
    source = read_source(transcript, textequiv_level.value)
    found = load_findings(findings, source)
    ensure_fresh(source, found)
    threshold = Severity(accept.value)
    if interactive:
        total = sum(1 for c in found.candidates if c.applicable and c.severity.rank >= threshold.rank)
        result = plan(source, found.candidates, threshold, _asker(source, total), _by_position)
    else:
        result = plan(source, found.candidates, threshold)
    _report(result, found.unplaced, dry_run=output is None and not in_place)
    patch = unified_diff(source.file_text, result.file_text, str(transcript))
    if diff is not None:
        write_atomic(diff, patch)
    elif output == STDIN:
        err_console.file.write(patch)
    else:  # on a terminal, control characters in the transcript are shown, not obeyed
        sys.stdout.write(visible(patch, keep_layout=True) if sys.stdout.isatty() else patch)
        sys.stdout.flush()
    if output == STDIN:
        sys.stdout.buffer.write(result.data)
        sys.stdout.flush()
    elif output is not None:
        write_atomic(output, result.data)
    elif in_place and result.changed:
        # Through a symlink, the file it points to is fixed and the backup goes beside it;
        # both keep the transcript's mode from their first byte.
        target = Path(os.path.realpath(transcript))
        backup = target.with_name(target.name + ".bak")
        mode = stat.S_IMODE(target.stat().st_mode)
        write_atomic(backup, source.raw, mode=mode)
        write_atomic(target, result.data, mode=mode)
        err_console.print(
            f"ocr-fix: wrote {escape(str(target))} (original in {escape(str(backup))})", highlight=False
        )
