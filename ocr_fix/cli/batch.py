"""``ocr-fix batch ROOT -o OUT``: check every document of an archive (see :mod:`ocr_fix.batch`)."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ocr_fix.batch.discovery import Document, discover, read_manifest
from ocr_fix.batch.runner import FINDINGS, BatchOptions, run_batch
from ocr_fix.batch.summary import SUMMARY, BatchResult, Outcome
from ocr_fix.cli import app
from ocr_fix.cli.check import FailOn, Format, emit, exit_code, without_baseline
from ocr_fix.cli.common import err_console, handles_errors, services
from ocr_fix.cli.ocr_options import CacheDir, DictionaryLang, Jobs, NoCache, PageTimeout, Psm
from ocr_fix.cli.progress import progress_reporter
from ocr_fix.config import load_settings
from ocr_fix.editorial import compile_marks
from ocr_fix.errors import BadInput, ExitCode
from ocr_fix.fileio import locked_dir, make_dir, refuse_input_as_output, write_atomic
from ocr_fix.model import Severity
from ocr_fix.ocr.cache import OcrCache
from ocr_fix.ocr.engine import OcrEngine
from ocr_fix.pipeline import CheckOptions, CheckResult, cache_for, reader_for, verifier_for
from ocr_fix.report import check_json
from ocr_fix.report.check_json import load_result
from ocr_fix.report.formats import RenderOptions, get_format
from ocr_fix.report.visible import visible
from ocr_fix.scans import SCAN_SUFFIXES, decoded_pages
from ocr_fix.suppress import Baseline, fingerprint, load_baseline, read_ignore_file, report_path
from ocr_fix.transcript import read_transcript


@app.command()
@handles_errors
def batch(
    ctx: typer.Context,
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
    fail_on: FailOn | None = typer.Option(
        None,
        "--fail-on",
        help="Also exit 1 when a document has a finding at or above this severity "
        "(default: fail-on of the config file, else only failed documents change the exit code).",
    ),
    fmt: Format | None = typer.Option(
        None,
        "--format",
        "-f",
        help="Also report every document's findings in one report in this format (sarif, github, ...).",
    ),
    report_file: Path | None = typer.Option(
        None, "--report", help="Write the --format report here instead of stdout."
    ),
    baseline: Path | None = typer.Option(
        None,
        "--baseline",
        help="A previous JSON or SARIF report: its findings neither count for --fail-on nor "
        "appear in the --format report.",
    ),
    write_baseline: Path | None = typer.Option(
        None,
        "--write-baseline",
        help="Write every document's findings as a baseline (JSON) to FILE; they then count as accepted.",
    ),
    config: Path | None = typer.Option(
        None,
        "--config",
        help="Settings file (default: .ocr-fix.toml or the tool.ocr-fix table of pyproject.toml, found "
        "upward from ROOT); batch uses lexicons, editorial-marks, ignore, ignore-file, baseline, jobs "
        "and lang.",
    ),
    show: Severity | None = typer.Option(
        None,
        "--show",
        help="Lowest severity the --format report lists (json lists all; default: show of the "
        "config file, else warning).",
    ),
    force: bool = typer.Option(False, "--force", help="Redo documents already done by an earlier run."),
    wait: bool = typer.Option(
        True, "--wait/--no-wait", help="When another run uses OUT: wait for it, or exit 11 at once."
    ),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress and no summary table."),
    jobs: Jobs = None,
    no_cache: NoCache = False,
    cache_dir: CacheDir = None,
    lang: str | None = typer.Option(None, "--lang", help="Tesseract language(s), e.g. eng or eng+fra."),
    dictionary: DictionaryLang = None,
    psm: Psm = None,
    page_timeout: PageTimeout = None,
) -> None:
    """Check every document under ROOT (or in --manifest) into OUT, in parallel and resumably.

    Example: ocr-fix batch archive/ -o out/

    A rerun skips documents whose inputs, settings and tool version are unchanged since
    they last succeeded, and retries failed ones (--force redoes all). A document that
    cannot be checked (no transcript, unreadable image, bad lexicon, Tesseract crash or
    timeout) is marked failed in summary.jsonl and the others go on.

    Exit 0: every document checked (findings change the exit code only with --fail-on;
    read summary.jsonl); 1: a finding at or above --fail-on; 8: finished, but some
    documents failed; 3/4/5: ROOT, manifest or a --lexicon is missing or unusable; 6:
    Tesseract (or, with --scheduler, Dask) is not installed; 10: OUT cannot be written;
    11: OUT is in use (--no-wait); 130: interrupted (rerun to resume); 143: terminated
    (SIGTERM).
    """
    if report_file is not None and fmt is None:
        raise typer.BadParameter("--report needs --format", param_hint="--report")
    if (root is None) == (manifest is None):
        raise typer.BadParameter("give either ROOT or --manifest", param_hint="ROOT")
    exclude = [output]
    documents = read_manifest(manifest) if manifest is not None else discover(root, transcript_glob, exclude)  # type: ignore[arg-type]
    start = root if root is not None else manifest.parent  # type: ignore[union-attr]
    settings = load_settings(config, start).override(
        {
            "lexicons": [str(p) for p in lexicon or ()],
            "jobs": jobs,
            "lang": lang,
            "baseline": str(baseline) if baseline is not None else None,
            "fail-on": fail_on.value if fail_on is not None else None,
            "show": show.value if show is not None else None,
        }
    )
    # A config file's fail-on and show apply as they do to `check`; batch's own default
    # fail-on is `never` (only failed documents change the exit code), not the config's.
    failing = FailOn(settings["fail-on"]) if settings.sources["fail-on"] != "default" else FailOn.never
    listed = Severity(settings["show"])
    baseline_path = Path(settings["baseline"]) if settings["baseline"] is not None else None
    accepted = load_baseline(baseline_path) if baseline_path is not None else None
    lexicons = tuple(Path(p) for p in settings["lexicons"])
    spellings = settings["ignore"]
    if settings["ignore-file"] is not None:
        spellings = (*spellings, *read_ignore_file(Path(settings["ignore-file"])))
    marks = settings["editorial-marks"]
    compile_marks(marks)  # a bad pattern fails before any OCR
    engine = services(ctx).engines(settings["lang"], psm)
    cache = cache_for(no_cache, cache_dir)

    ignore_file = Path(settings["ignore-file"]) if settings["ignore-file"] is not None else None
    inputs: list[Path | None] = [manifest, config, ignore_file, *lexicons]
    for doc in documents:  # --report or --write-baseline over a document's own files
        inputs += [doc.transcript, doc.lexicon, *doc.scans]
    refuse_input_as_output([output / SUMMARY, report_file, write_baseline], inputs, SCAN_SUFFIXES)
    refuse_input_as_output([report_file], [baseline_path])
    make_dir(output)
    with locked_dir(output, wait, on_wait=lambda: _waiting(output)), decoded_pages() as decoded:
        # Pages are decoded once: the verifier's and the second readings' crops are cut
        # from the arrays the OCR workers kept (workers on other machines keep none).
        engine = engine.with_decoded_pages(decoded)
        options = BatchOptions(
            lexicons=lexicons,
            force=force,
            page_timeout=page_timeout,
            check=CheckOptions(
                reader=reader_for(engine, cache),
                verifier=verifier_for(engine, cache, None, decoded),
                editorial_marks=marks,
                accepted=tuple(spellings),
                language=dictionary or settings["lang"],
            ),
            decoded=decoded,
        )
        result = _run(documents, output, engine, cache, options, scheduler, settings["jobs"], quiet)
    if not quiet:
        print_summary(result, err_console)
    results: list[CheckResult] | None = None
    if fmt is not None or accepted is not None or write_baseline is not None:
        results = load_results(result, documents, output)
    if results is not None and write_baseline is not None:
        write_atomic(write_baseline, get_format("json").render(results, RenderOptions()))
        accepted = Baseline.of(
            (report_path(r.transcript.path), fingerprint(f, r.transcript.text))
            for r in results
            for f in r.findings
        )
    if results is not None and accepted is not None:
        results, dropped = without_baseline(results, accepted)
        if dropped and not quiet:
            err_console.print(f"ocr-fix: {dropped} finding(s) in the baseline not counted", markup=False)
    if results is not None and fmt is not None:
        emit(get_format(fmt.value).render(results, RenderOptions(show=listed)), report_file)
    raise typer.Exit(int(batch_exit_code(result, failing, results if accepted is not None else None)))


def batch_exit_code(
    result: BatchResult, fail_on: FailOn, results: Sequence[CheckResult] | None = None
) -> ExitCode:
    """8 when a document failed; else 1 when a document has a finding at or above
    ``fail_on`` (among ``results`` when given: the findings a baseline left); else 0."""
    if result.failed:
        return ExitCode.PARTIAL
    if results is not None:
        return exit_code(results, fail_on)
    if fail_on is FailOn.never:
        return ExitCode.OK
    counted = [s.value for s in Severity if s.rank >= Severity(fail_on.value).rank]
    hit = any(getattr(o, name) for o in result.outcomes if o.ok for name in counted)
    return ExitCode.FINDINGS if hit else ExitCode.OK


def load_results(result: BatchResult, documents: Sequence[Document], out: Path) -> list[CheckResult]:
    """The findings of every document checked (this run or an earlier one), in document
    order, read back from ``OUT/<id>/findings.json``."""
    by_id = {d.id: d for d in documents}
    results: list[CheckResult] = []
    for o in result.outcomes:
        doc = by_id.get(o.document)
        if not o.ok or doc is None or doc.transcript is None:
            continue
        path = out / o.document / FINDINGS
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            raise BadInput("cannot read the findings written for this document", path) from None
        results.append(load_result(data, read_transcript(doc.transcript)))
    return results


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
