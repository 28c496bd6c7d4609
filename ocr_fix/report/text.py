"""The one place a finding becomes words: every formatter takes its text from here.

Formats differ in where a finding goes (an annotation, a SARIF result, a table row), not
in what it says, so a message reads the same in a terminal, on a pull request and in a
code-scanning alert.
"""

from __future__ import annotations

from ocr_fix.model import Finding
from ocr_fix.report import explain

__all__ = ["headline", "message", "where_on_scan"]


def message(f: Finding) -> str:
    """What the finding says, without its position, with the reasons rendered from its
    features (:mod:`ocr_fix.report.explain`)."""
    return explain.message(f)


def where_on_scan(f: Finding) -> str:
    """``scan p2 l14`` — the page and line of the scan the finding rests on, or ``""``."""
    return f"scan p{f.scan.page} l{f.scan.line}" if f.scan else ""


def headline(f: Finding) -> str:
    """One line for formats that carry nothing but text (annotations, ``compact``):
    ``scan p2 l14: <message> -> 'Konoye'``."""
    where = where_on_scan(f)
    fix = f" -> {f.suggestion!r}" if f.suggestion else ""
    return f"{where + ': ' if where else ''}{message(f)}{fix}"
