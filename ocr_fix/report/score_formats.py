"""Formatters for ``ocr-fix score``: a rich table for people, JSON for programs.

Both take the same inputs (the pairing, the page scores, the summary) so the two formats
can never disagree about what was scored.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.table import Table

from ocr_fix.metrics import Confusion, Counts, PageScore, Pairing, Summary
from ocr_fix.report.visible import visible

SCHEMA = "ocr-fix/score/1"


def _rate(value: float) -> float | None:
    # JSON has no infinity; an empty reference with a non-empty OCR text is the only
    # way to get one (see ocr_fix.metrics), and it is reported as null.
    return None if math.isinf(value) else value


def _counts(counts: Counts) -> dict[str, int]:
    return {
        "substitutions": counts.substitutions,
        "insertions": counts.insertions,
        "deletions": counts.deletions,
        "hits": counts.hits,
        "length": counts.reference_length,
    }


def _confusions(confusions: Sequence[Confusion]) -> list[dict[str, Any]]:
    return [{"gt": gt, "ocr": ocr, "count": n} for gt, ocr, n in confusions]


def unpaired(pairing: Pairing) -> list[dict[str, str]]:
    """Files that had no partner, as JSON-ready dicts (side = which side had the file)."""
    return [{"page": name, "side": "gt", "path": str(path)} for name, path in pairing.gt_only] + [
        {"page": name, "side": "ocr", "path": str(path)} for name, path in pairing.ocr_only
    ]


def to_json(pairing: Pairing, scores: Sequence[PageScore], summary: Summary) -> str:
    """The ``ocr-fix/score/1`` document; ``summary.confusions`` is emitted as given."""
    paths = {name: (gt, ocr) for name, gt, ocr in pairing.pairs}
    doc = {
        "schema": SCHEMA,
        "pages": [
            {
                "page": s.name,
                "gt": str(paths[s.name][0]),
                "ocr": str(paths[s.name][1]),
                "cer": _rate(s.cer),
                "wer": _rate(s.wer),
                "chars": _counts(s.chars),
                "words": _counts(s.words),
            }
            for s in scores
        ],
        "summary": {
            "cer": _rate(summary.cer),
            "wer": _rate(summary.wer),
            "cer_macro": _rate(summary.cer_macro),
            "wer_macro": _rate(summary.wer_macro),
            "chars": _counts(summary.chars),
            "words": _counts(summary.words),
            "pages": summary.pages,
        },
        "confusions": _confusions(summary.confusions),
        "unpaired": unpaired(pairing),
    }
    return json.dumps(doc, ensure_ascii=False, indent=2, allow_nan=False) + "\n"


def _pct(value: float) -> str:
    return "inf" if math.isinf(value) else f"{100 * value:.2f}%"


def _show(unit: str) -> str:
    """A confusion side made visible: nothing is shown as ∅, a space as ␣."""
    if unit == "":
        return "∅"
    return visible(unit.replace(" ", "␣"))


def render_table(scores: Sequence[PageScore], summary: Summary, console: Console) -> None:
    """Per-page rows, micro and macro rows, then the confusions in ``summary``."""
    table = Table(title="Fidelity (CER/WER: errors / ground-truth length)")
    for column in ("page", "chars", "CER", "WER", "S", "I", "D"):
        table.add_column(column, justify="left" if column == "page" else "right")
    for s in scores:
        c = s.chars
        table.add_row(
            s.name,
            str(c.reference_length),
            _pct(s.cer),
            _pct(s.wer),
            str(c.substitutions),
            str(c.insertions),
            str(c.deletions),
        )
    t = summary.chars
    table.add_section()
    table.add_row(
        "micro",
        str(t.reference_length),
        _pct(summary.cer),
        _pct(summary.wer),
        str(t.substitutions),
        str(t.insertions),
        str(t.deletions),
        style="bold",
    )
    table.add_row("macro", "", _pct(summary.cer_macro), _pct(summary.wer_macro), "", "", "")
    console.print(table)
    if summary.confusions:
        console.print("Most frequent confusions (gt -> ocr  count):")
        width = max(len(_show(gt)) for gt, _, _ in summary.confusions)
        for gt, ocr, n in summary.confusions:
            console.print(f"  {_show(gt):>{width}} -> {_show(ocr)}  {n}", markup=False, highlight=False)


CSV_COLUMNS = (
    "page",
    "gt",
    "ocr",
    "cer",
    "wer",
    "chars",
    "char_substitutions",
    "char_insertions",
    "char_deletions",
    "words",
    "word_substitutions",
    "word_insertions",
    "word_deletions",
)


def to_csv(pairing: Pairing, scores: Sequence[PageScore], summary: Summary) -> str:
    """One row per page, then a ``micro`` row over all pages (RFC 4180, CRLF line ends,
    rates as fractions with 6 digits; an infinite rate is left empty)."""
    import csv
    import io

    paths = {name: (gt, ocr) for name, gt, ocr in pairing.pairs}

    def rate(value: float) -> str:
        return "" if math.isinf(value) else f"{value:.6f}"

    def counts(c: Counts) -> list[int]:
        return [c.reference_length, c.substitutions, c.insertions, c.deletions]

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for s in scores:
        gt, ocr = paths[s.name]
        writer.writerow([s.name, gt, ocr, rate(s.cer), rate(s.wer), *counts(s.chars), *counts(s.words)])
    writer.writerow(
        [
            "micro",
            "",
            "",
            rate(summary.cer),
            rate(summary.wer),
            *counts(summary.chars),
            *counts(summary.words),
        ]
    )
    return buffer.getvalue()
