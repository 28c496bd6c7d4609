"""``ocr-fix check``: flag transcript errors against the page scans."""

from __future__ import annotations

import io
import sys
from enum import Enum
from pathlib import Path

import typer
from rich.console import Console

from ocr_fix.cli import app
from ocr_fix.cli.common import handles_errors
from ocr_fix.cli.ocr_options import CacheDir, Jobs, Lang, NoCache, PageTimeout, Psm
from ocr_fix.cli.progress import progress_reporter
from ocr_fix.errors import ExitCode
from ocr_fix.fileio import write_atomic
from ocr_fix.model import Severity
from ocr_fix.pipeline import CheckResult, OcrRun
from ocr_fix.pipeline import check as check_document
from ocr_fix.report import check_json, github, table


class Format(str, Enum):
    table = "table"
    json = "json"
    github = "github"
    html = "html"


class FailOn(str, Enum):
    error = "error"
    warning = "warning"
    info = "info"
    never = "never"


def exit_code(result: CheckResult, fail_on: FailOn) -> ExitCode:
    """1 when a finding is at or above ``fail_on``, else 0."""
    if fail_on is FailOn.never:
        return ExitCode.OK
    threshold = Severity(fail_on.value).rank
    return ExitCode.FINDINGS if any(f.severity.rank >= threshold for f in result.findings) else ExitCode.OK


def render(result: CheckResult, fmt: Format, show: Severity, color: bool) -> str | bytes:
    if fmt is Format.json:
        return check_json.render(result)
    if fmt is Format.github:
        return github.render(result)
    if fmt is Format.html:
        from ocr_fix.report import html

        return html.render(result)
    buf = io.StringIO()
    console = Console(file=buf, force_terminal=color, width=160 if not color else None, highlight=False)
    table.render(result, console, show)
    return buf.getvalue()


@app.command()
@handles_errors
def check(
    transcript: Path = typer.Argument(
        ..., help="Transcript: markdown (.md), plain text (.txt, \\f between pages), ALTO or PAGE XML."
    ),
    scans: list[Path] | None = typer.Argument(
        None, help="Page scans: images, PDFs or directories, in page order. None: lexicon-only mode."
    ),
    lexicon: list[Path] | None = typer.Option(
        None, "--lexicon", "-l", help="Lexicon file of names and terms (repeatable)."
    ),
    fmt: Format = typer.Option(Format.table, "--format", "-f", help="Output format."),
    output: Path | None = typer.Option(
        None, "--output", "-o", help="Write the report here instead of stdout."
    ),
    fail_on: FailOn = typer.Option(
        FailOn.error, "--fail-on", help="Exit 1 when a finding is at or above this severity."
    ),
    show: Severity = typer.Option(
        Severity.WARNING, "--show", help="Table only: lowest severity listed (the summary counts all)."
    ),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress output."),
    jobs: Jobs = None,
    no_cache: NoCache = False,
    cache_dir: CacheDir = None,
    lang: Lang = "eng",
    psm: Psm = None,
    page_timeout: PageTimeout = None,
) -> None:
    """Compare TRANSCRIPT with the page SCANS and report where the transcript is wrong.

    Every finding names the transcript line:column, the scan page and line, what the scan
    shows, and a suggestion. Exit 0: nothing at or above --fail-on; 1: something is.
    """
    run = OcrRun(lang=lang, psm=psm, jobs=jobs, no_cache=no_cache, cache_dir=cache_dir, timeout=page_timeout)
    with progress_reporter(enabled=not quiet) as report:
        result = check_document(transcript, list(scans or ()), tuple(lexicon or ()), run, progress=report)
    text = render(result, fmt, show, color=output is None and sys.stdout.isatty())
    if output is not None:
        write_atomic(output, text)
    elif isinstance(text, bytes):
        sys.stdout.buffer.write(text)
    else:
        sys.stdout.write(text)
    raise typer.Exit(int(exit_code(result, fail_on)))
