"""``ocr-fix score GT OCR``: character and word error rates of OCR text against ground
truth, per page and overall (see :mod:`ocr_fix.metrics` for the definitions)."""

from __future__ import annotations

import io
from enum import Enum
from pathlib import Path

import typer
from rich.console import Console

from ocr_fix.cli import app
from ocr_fix.cli.common import err_console, handles_errors
from ocr_fix.errors import ExitCode
from ocr_fix.fileio import refuse_input_as_output, write_atomic
from ocr_fix.metrics import PAGE_SUFFIXES, match_pages, score_files, summarise
from ocr_fix.report.score_formats import render_table, to_csv, to_json
from ocr_fix.transcript import STDIN


class Format(str, Enum):
    table = "table"
    json = "json"
    csv = "csv"


@app.command()
@handles_errors
def score(
    gt: Path = typer.Argument(
        ..., help="Ground truth: a text, ALTO, PAGE or hOCR file, or a directory of NN.gt.txt / NN.xml pages."
    ),
    ocr: Path = typer.Argument(
        ..., help="OCR: the same kinds of file, or a directory of pages with the same names."
    ),
    format: Format = typer.Option(Format.table, "--format", "-f", help="table, json or csv."),
    output: Path | None = typer.Option(
        None, "--output", "-o", help="Write the report to FILE (atomically) instead of stdout (-: stdout)."
    ),
    confusions: int = typer.Option(
        20, "--confusions", min=0, help="How many of the most frequent confusions to list."
    ),
    max_cer: float | None = typer.Option(
        None, "--max-cer", min=0.0, help="Exit 1 when the overall (micro) CER is above this, e.g. 0.05."
    ),
) -> None:
    """Character and word error rates (CER/WER) of OCR text against ground truth.

    Example: ocr-fix score golden/psis-400-23/ ocr/

    Either side may be plain text or ALTO / PAGE / hOCR XML (told by content; the text
    is read as check reads a transcript). Text is NFC-normalised and whitespace runs count
    as one space; characters are grapheme clusters. Exit 1 above --max-cer, 3 if a path
    is missing, 4 if a file is not UTF-8 text or a supported XML format.
    """
    to_file = output is not None and output != STDIN
    refuse_input_as_output([output if to_file else None], [gt, ocr], PAGE_SUFFIXES)
    pairing = match_pages(gt, ocr)
    for name, path in pairing.gt_only:
        err_console.print(f"ocr-fix: warning: page {name} has no OCR text, not scored: {path}", markup=False)
    for name, path in pairing.ocr_only:
        err_console.print(
            f"ocr-fix: warning: page {name} has no ground truth, not scored: {path}", markup=False
        )
    scores = score_files(pairing.pairs)
    summary = summarise(scores, top=confusions)

    if format is Format.json:
        text = to_json(pairing, scores, summary)
    elif format is Format.csv:
        text = to_csv(pairing, scores, summary)
    elif not to_file:
        render_table(scores, summary, Console())
        text = ""
    else:
        buffer = io.StringIO()
        render_table(scores, summary, Console(file=buffer, width=100, color_system=None))
        text = buffer.getvalue()
    if to_file:
        assert output is not None
        write_atomic(output, text)
    elif text:
        typer.echo(text, nl=False)
    if max_cer is not None and summary.cer > max_cer:
        err_console.print(
            f"ocr-fix: CER {summary.cer:.4f} is above --max-cer {max_cer:g}", markup=False, highlight=False
        )
        raise typer.Exit(int(ExitCode.FINDINGS))
