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
from ocr_fix.fileio import refuse_input_as_output, write_atomic
from ocr_fix.metrics import match_pages, score_files, summarise
from ocr_fix.report.score_formats import render_table, to_json


class Format(str, Enum):
    table = "table"
    json = "json"


@app.command()
@handles_errors
def score(
    gt: Path = typer.Argument(..., help="Ground-truth text file, or directory of NN.gt.txt / NN.txt pages."),
    ocr: Path = typer.Argument(..., help="OCR text file, or directory of pages with the same names."),
    format: Format = typer.Option(Format.table, "--format", "-f", help="Output format."),
    output: Path | None = typer.Option(
        None, "--output", "-o", help="Write the report to FILE (atomically) instead of stdout."
    ),
    confusions: int = typer.Option(
        20, "--confusions", min=0, help="How many of the most frequent confusions to list."
    ),
) -> None:
    """Character and word error rates (CER/WER) of OCR text against ground truth.

    Text is NFC-normalised and whitespace runs count as one space; characters are
    grapheme clusters. Exit 3 if a path is missing, 4 if a file is not UTF-8 text.
    """
    refuse_input_as_output([output], [gt, ocr], (".txt",))
    pairing = match_pages(gt, ocr)
    for name, path in pairing.gt_only:
        err_console.print(f"ocr-fix: warning: page {name} has no OCR text, not scored: {path}", markup=False)
    for name, path in pairing.ocr_only:
        err_console.print(
            f"ocr-fix: warning: page {name} has no ground truth, not scored: {path}", markup=False
        )
    scores = score_files(pairing.pairs)
    summary = summarise(scores, top=confusions)

    if output is None:
        if format is Format.json:
            typer.echo(to_json(pairing, scores, summary), nl=False)
        else:
            render_table(scores, summary, Console())
        return
    if format is Format.json:
        text = to_json(pairing, scores, summary)
    else:
        buffer = io.StringIO()
        render_table(scores, summary, Console(file=buffer, width=100, color_system=None))
        text = buffer.getvalue()
    write_atomic(output, text)
