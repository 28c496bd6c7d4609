"""``ocr-fix check``: flag transcript errors against the page scans."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import replace
from enum import Enum
from pathlib import Path

import typer

from ocr_fix import pipeline
from ocr_fix.cli import app
from ocr_fix.cli.common import err_console, handles_errors, services
from ocr_fix.cli.ocr_options import (
    CacheDir,
    DictionaryLang,
    Jobs,
    NoCache,
    PageTimeout,
    Psm,
    TextEquiv,
    TextEquivLevel,
)
from ocr_fix.cli.progress import progress_reporter
from ocr_fix.config import load_settings
from ocr_fix.editorial import compile_marks
from ocr_fix.errors import ExitCode, UsageError
from ocr_fix.fileio import refuse_input_as_output, write_atomic
from ocr_fix.inputs import Job, is_scan, plan_jobs
from ocr_fix.model import Severity
from ocr_fix.pipeline import CheckOptions, CheckResult, OcrRun, Progress
from ocr_fix.pipeline import check as check_document
from ocr_fix.report.formats import FORMATS, RenderOptions, get_format
from ocr_fix.scans import SCAN_SUFFIXES
from ocr_fix.suppress import Baseline, fingerprint, load_baseline, read_ignore_file, report_path
from ocr_fix.transcript import STDIN, read_transcript

Format = Enum("Format", {name: name for name in FORMATS}, type=str)  # type: ignore[misc]


class FailOn(str, Enum):
    error = "error"
    warning = "warning"
    info = "info"
    never = "never"


def exit_code(results: CheckResult | Sequence[CheckResult], fail_on: FailOn) -> ExitCode:
    """1 when a finding of any result is at or above ``fail_on``, else 0."""
    if fail_on is FailOn.never:
        return ExitCode.OK
    many = [results] if isinstance(results, CheckResult) else list(results)
    threshold = Severity(fail_on.value).rank
    hit = any(f.severity.rank >= threshold for r in many for f in r.findings)
    return ExitCode.FINDINGS if hit else ExitCode.OK


def render(
    results: CheckResult | Sequence[CheckResult], fmt: str, show: Severity, color: bool
) -> str | bytes:
    many = [results] if isinstance(results, CheckResult) else list(results)
    return get_format(str(fmt)).render(many, RenderOptions(show=show, color=color))


def without_baseline(results: Sequence[CheckResult], baseline: Baseline) -> tuple[list[CheckResult], int]:
    """``results`` without the findings ``baseline`` accepts, and how many those were."""
    out: list[CheckResult] = []
    dropped = 0
    for r in results:
        kept, n = baseline.filter(r.transcript.path, r.findings, r.transcript.text)
        out.append(replace(r, findings=tuple(kept)))
        dropped += n
    return out, dropped


def ocr_together(todo: Sequence[Job], run: OcrRun, progress: Progress) -> None:
    """With several transcripts that have scans, OCR all their pages in one process pool
    first, into the OCR cache the checks then read: the pool starts once and its workers
    stay busy across transcripts instead of idling at the end of each one's few pages.
    Without a cache (``--no-cache``) each check OCRs its own pages as before."""
    scans = list(dict.fromkeys(s for job in todo for s in job.scans))
    if run.no_cache or sum(1 for job in todo if job.scans) < 2:
        return
    engine, cache = run.engines(run.lang, run.psm), pipeline.cache_for(False, run.cache_dir)
    pipeline.scan_ocr(engine, cache, run.jobs, run.timeout)(scans, progress)


def emit(text: str | bytes, output: Path | None) -> None:
    """Write the report to ``output``; to stdout when it is None or ``-``."""
    if output is not None and output != STDIN:
        write_atomic(output, text)
    elif isinstance(text, bytes):
        sys.stdout.buffer.write(text)
    else:
        sys.stdout.write(text)


@app.command()
@handles_errors
def check(
    ctx: typer.Context,
    paths: list[Path] = typer.Argument(
        ...,
        metavar="TRANSCRIPT... [SCAN...]",
        help="Transcripts (.md, .txt with \\f between pages, ALTO, PAGE, hOCR or TEI; -: stdin) and, "
        "for a single transcript, its page scans (images, PDFs or directories, in page order). Told apart by "
        "file type. No scans: lexicon-only mode.",
    ),
    scans: str | None = typer.Option(
        None,
        "--scans",
        help="Where each transcript's scans are: 'auto' (the images in its folder) or DIR "
        "(a tree mirroring the transcripts' folders). Needed for scans with several transcripts.",
    ),
    lexicon: list[Path] | None = typer.Option(
        None, "--lexicon", "-l", help="Lexicon file of names and terms (repeatable)."
    ),
    fmt: Format | None = typer.Option(None, "--format", "-f", help="Output format (default: table)."),
    output: Path | None = typer.Option(
        None, "--output", "-o", help="Write the report here instead of stdout."
    ),
    fail_on: FailOn | None = typer.Option(
        None, "--fail-on", help="Exit 1 when a finding is at or above this severity (default: error)."
    ),
    show: Severity | None = typer.Option(
        None,
        "--show",
        help="Lowest severity listed by table, github, sarif, rdjsonl and compact (json and html "
        "list all; default: warning).",
    ),
    ignore: list[str] | None = typer.Option(
        None, "--ignore", help="An accepted spelling, never flagged (repeatable)."
    ),
    ignore_file: Path | None = typer.Option(
        None, "--ignore-file", help="File of accepted spellings, one a line (# comments)."
    ),
    baseline: Path | None = typer.Option(
        None,
        "--baseline",
        help="A previous JSON or SARIF report: its findings are not reported again (matched by "
        "text, context and scan reading, so edits elsewhere in the file keep them matched).",
    ),
    write_baseline: Path | None = typer.Option(
        None,
        "--write-baseline",
        help="Write every finding of this run as a baseline (JSON) to FILE; they then count as accepted.",
    ),
    config: Path | None = typer.Option(
        None,
        "--config",
        help="Settings file (default: .ocr-fix.toml or the tool.ocr-fix table of pyproject.toml, found "
        "upward from the first transcript).",
    ),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress output."),
    jobs: Jobs = None,
    no_cache: NoCache = False,
    cache_dir: CacheDir = None,
    lang: str | None = typer.Option(None, "--lang", help="Tesseract language(s), e.g. eng or eng+fra."),
    dictionary: DictionaryLang = None,
    psm: Psm = None,
    page_timeout: PageTimeout = None,
    textequiv_level: TextEquiv = TextEquivLevel.line,
) -> None:
    """Compare each TRANSCRIPT with its page scans and report where the transcript is wrong.

    Example: ocr-fix check transcript.md scans/ --lexicon names.txt

    Every finding names the transcript line:column, the scan page and line, what the scan
    shows, and a suggestion. Settings come from the command line, then the config file,
    then the defaults (see `ocr-fix config`). One exit code for the whole call. Exit 0:
    nothing at or above --fail-on; 1: something is; 2: usage or config error; 3: an
    input is missing; 4: an input is unreadable; 5: unusable lexicon; 6: Tesseract or
    the language is not installed; 7: Tesseract failed on a page; 10: the output cannot
    be written; 130: interrupted.
    """
    first = next((p for p in paths if not is_scan(p)), None)
    settings = load_settings(config, first.parent if first is not None else None).override(
        {
            "scans": scans,
            "lexicons": [str(p) for p in lexicon or ()],
            "format": fmt.value if fmt is not None else None,
            "fail-on": fail_on.value if fail_on is not None else None,
            "show": show.value if show is not None else None,
            "ignore": ignore,
            "ignore-file": str(ignore_file) if ignore_file is not None else None,
            "baseline": str(baseline) if baseline is not None else None,
            "jobs": jobs,
            "lang": lang,
        }
    )
    formatter = get_format(settings["format"])
    # Scans named on the command line override the config file's `scans` (as every
    # option given there does); only --scans given with them is ambiguous.
    scan_mode = None if scans is None and any(is_scan(p) for p in paths) else settings["scans"]
    todo = plan_jobs(paths, scan_mode)
    lexicons = tuple(Path(p) for p in settings["lexicons"])
    baseline_path = Path(settings["baseline"]) if settings["baseline"] is not None else None
    inputs: list[Path | None] = [
        *(j.transcript for j in todo),
        *(s for j in todo for s in j.scans),
        *lexicons,
    ]
    inputs.append(config)
    if settings["ignore-file"] is not None:
        inputs.append(Path(settings["ignore-file"]))
    refuse_input_as_output([output if output != STDIN else None, write_baseline], inputs, SCAN_SUFFIXES)
    refuse_input_as_output([output], [baseline_path])  # --write-baseline may update --baseline
    if len(todo) > 1 and not formatter.many:
        raise UsageError(f"--format {formatter.name} reports one transcript at a time")
    # Every transcript is read before any OCR starts (and stdin only once).
    read = [read_transcript(job.transcript, textequiv_level.value) for job in todo]
    spellings = settings["ignore"]
    if settings["ignore-file"] is not None:
        spellings = (*spellings, *read_ignore_file(Path(settings["ignore-file"])))
    accepted = load_baseline(baseline_path) if baseline_path is not None else None
    options = CheckOptions(
        lexicons=lexicons,
        editorial_marks=settings["editorial-marks"],
        accepted=tuple(spellings),
        language=dictionary or settings["lang"],
    )
    compile_marks(options.editorial_marks)  # a bad pattern fails before any OCR
    run = OcrRun(
        lang=settings["lang"],
        psm=psm,
        jobs=settings["jobs"],
        no_cache=no_cache,
        cache_dir=cache_dir,
        timeout=page_timeout,
        engines=services(ctx).engines,
    )
    results: list[CheckResult] = []
    with progress_reporter(enabled=not quiet) as report:
        ocr_together(todo, run, report)
        for job, transcript in zip(todo, read, strict=True):
            if scan_mode is not None and not job.scans and not quiet:
                err_console.print(f"ocr-fix: {job.transcript}: no scans found, lexicon-only", markup=False)
            results.append(
                check_document(transcript, list(job.scans), (), run, report, textequiv_level.value, options)
            )
    if write_baseline is not None:
        write_atomic(write_baseline, get_format("json").render(results, RenderOptions()))
        accepted = Baseline.of(
            (report_path(r.transcript.path), fingerprint(f, r.transcript.text))
            for r in results
            for f in r.findings
        )
        if not quiet:
            total = sum(len(r.findings) for r in results)
            err_console.print(
                f"ocr-fix: wrote a baseline of {total} finding(s) to {write_baseline}", markup=False
            )
    if accepted is not None:
        results, dropped = without_baseline(results, accepted)
        if dropped and not quiet:
            err_console.print(f"ocr-fix: {dropped} finding(s) in the baseline not reported", markup=False)
    color = output is None and sys.stdout.isatty()
    emit(formatter.render(results, RenderOptions(show=Severity(settings["show"]), color=color)), output)
    raise typer.Exit(int(exit_code(results, FailOn(settings["fail-on"]))))
