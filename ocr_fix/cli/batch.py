"""``ocr-fix batch ROOT -o OUT``: check every document of an archive (see :mod:`ocr_fix.batch`)."""

from __future__ import annotations

import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ocr_fix.batch.discovery import Document, discover, read_manifest
from ocr_fix.batch.runner import BatchOptions, run_batch
from ocr_fix.batch.summary import SUMMARY, BatchResult, Outcome
from ocr_fix.cli import app
from ocr_fix.cli.common import err_console, handles_errors
from ocr_fix.cli.ocr_options import CacheDir, Jobs, Lang, NoCache, PageTimeout, Psm
from ocr_fix.cli.progress import progress_reporter
from ocr_fix.errors import ExitCode
from ocr_fix.fileio import locked_dir, make_dir, refuse_input_as_output
from ocr_fix.ocr.cache import OcrCache
from ocr_fix.ocr.engine import OcrEngine
from ocr_fix.pipeline import CheckOptions, cache_for, engine_for, reader_for
from ocr_fix.report import check_json
from ocr_fix.report.visible import visible


@app.command()
@handles_errors
def batch(
    root: Path | None = typer.Argument(
        None, help="Archive folder: every subfolder with page images and a transcript is a document."
    ),
    output: Path = typer.Option(
        ..., "--output", "-o", help="Output folder: <id>/findings.json per document and summary.jsonl."
    ),
    lexicon: list[Path] | None = typer.Option(
        None,
        "--lexicon",
        "-l",
        help="Lexicon for every document (repeatable); a document's own lexicon.txt is added.",
    ),
    manifest: Path | None = typer.Option(
        None,
        "--manifest",
        help="CSV (id,transcript,scans) or JSONL naming the documents instead of ROOT; "
        "scans ';'-separated, paths relative to the manifest.",
    ),
    transcript_glob: str | None = typer.Option(
        None,
        "--transcript-glob",
        help="File name pattern of transcripts (default: transcript.md or transcript.txt).",
    ),
    scheduler: str | None = typer.Option(
        None,
        "--scheduler",
        help="Dask scheduler address (tcp://HOST:PORT) or 'local' for a local Dask cluster; "
        "needs ocr-fix[dask].",
    ),
    force: bool = typer.Option(False, "--force", help="Redo documents already done by an earlier run."),
    wait: bool = typer.Option(
        True, "--wait/--no-wait", help="When another run uses OUT: wait for it, or exit 11 at once."
    ),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress and no summary table."),
    jobs: Jobs = None,
    no_cache: NoCache = False,
    cache_dir: CacheDir = None,
    lang: Lang = "eng",
    psm: Psm = None,
    page_timeout: PageTimeout = None,
) -> None:
    """Check every document under ROOT (or in --manifest) into OUT, in parallel and resumably.

    A rerun skips documents whose inputs, settings and tool version are unchanged since
    they last succeeded, and retries failed ones (--force redoes all). A document that
    cannot be checked (no transcript, unreadable image, bad lexicon, Tesseract crash or
    timeout) is marked failed in summary.jsonl and the others go on.

    Exit 0: every document checked (findings do not change the exit code; read
    summary.jsonl); 8: finished, but some documents failed; 3/4/5: ROOT, manifest or a
    --lexicon is missing or unusable; 6: Tesseract (or, with --scheduler, Dask) is not
    installed; 10: OUT cannot be written; 11: OUT is in use (--no-wait); 130: interrupted
    (rerun to resume); 143: terminated (SIGTERM).
    """
    if (root is None) == (manifest is None):
        raise typer.BadParameter("give either ROOT or --manifest", param_hint="ROOT")
    exclude = [output]
    documents = read_manifest(manifest) if manifest is not None else discover(root, transcript_glob, exclude)  # type: ignore[arg-type]
    engine = engine_for(lang, psm)
    cache = cache_for(no_cache, cache_dir)
    options = BatchOptions(
        lexicons=tuple(lexicon or ()),
        force=force,
        page_timeout=page_timeout,
        check=CheckOptions(reader=reader_for(engine, cache)),
    )

    refuse_input_as_output([output / SUMMARY], [manifest, *(lexicon or ())])
    make_dir(output)
    with locked_dir(output, wait, on_wait=lambda: _waiting(output)):
        result = _run(documents, output, engine, cache, options, scheduler, jobs, quiet)
    if not quiet:
        print_summary(result, err_console)
    raise typer.Exit(int(ExitCode.PARTIAL if result.failed else ExitCode.OK))


def _waiting(output: Path) -> None:
    err_console.print(
        visible(f"ocr-fix: {output} is in use by another batch run; waiting for it to finish"),
        markup=False,
        highlight=False,
    )


def _run(
    documents: list[Document],
    output: Path,
    engine: OcrEngine,
    cache: OcrCache | None,
    options: BatchOptions,
    scheduler: str | None,
    jobs: int | None,
    quiet: bool,
) -> BatchResult:
    from ocr_fix.distributed import executor_for

    executor = executor_for(scheduler, jobs)
    plain_log = not quiet and not sys.stderr.isatty()
    try:
        with progress_reporter(enabled=not quiet, console=err_console) as report:
            result = run_batch(
                documents,
                output,
                engine,
                executor,
                cache,
                options,
                progress=report,
                on_document=_log_line if plain_log else _no_line,
                render=check_json.render,
            )
    finally:
        executor.close()
    return result


def _log_line(outcome: Outcome, done: int, total: int) -> None:
    what = (
        f"ok {outcome.error} errors {outcome.warning} warnings" if outcome.ok else f"failed: {outcome.reason}"
    )
    err_console.print(
        visible(f"[{done}/{total}] {outcome.document} {what} {outcome.seconds:.1f}s"),
        markup=False,
        highlight=False,
    )


def _no_line(outcome: Outcome, done: int, total: int) -> None:
    return None


def print_summary(result: BatchResult, console: Console) -> None:
    """Totals on stderr, then one line per failed document."""
    ok = sum(1 for o in result.outcomes if o.ok)
    table = Table(title="ocr-fix batch", show_header=True, header_style="bold")
    for col in ("documents", "ok", "failed", "resumed", "errors", "warnings", "info", "pages", "time"):
        table.add_column(col, justify="right")
    table.add_row(
        str(len(result.outcomes)),
        str(ok),
        str(len(result.failed)),
        str(len(result.skipped)),
        str(result.total("error")),
        str(result.total("warning")),
        str(result.total("info")),
        str(result.total("pages")),
        f"{result.seconds:.1f}s",
    )
    console.print(table)
    for o in result.failed:
        console.print(
            f"[red]failed[/] {escape(visible(o.document))}: {escape(visible(o.reason or ''))}",
            highlight=False,
        )
