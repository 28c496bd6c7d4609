"""Every ``--format`` of ``check`` and ``batch`` behind one interface.

A format is a :class:`ReportFormat`: it turns the results of one call — one or several
transcripts, each a :class:`~ocr_fix.pipeline.CheckResult` — into the bytes written to
stdout or ``--output``. The CLI knows formats only by name through :data:`FORMATS`;
adding one is a module with a subclass and a line here.
"""

from __future__ import annotations

import importlib
import os
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from ocr_fix.errors import UsageError
from ocr_fix.model import Finding, Severity
from ocr_fix.pipeline import CheckResult

__all__ = ["FORMATS", "RenderOptions", "ReportFormat", "display_path", "get_format", "shown", "worst_first"]


@dataclass(frozen=True, slots=True)
class RenderOptions:
    """How a report is rendered.

    ``show`` is the lowest severity listed; formats that are data rather than a view
    (``json``, ``html``) list every finding whatever it says. ``color`` only matters
    for the terminal table. Paths are written relative to ``root`` when they lie under
    it (the repository root in CI, which is where annotations and SARIF expect them).
    """

    show: Severity = Severity.WARNING
    color: bool = False
    root: Path | None = None


class ReportFormat(ABC):
    """One output format."""

    #: The ``--format`` name.
    name: ClassVar[str]
    #: False for formats that can hold one transcript only (the HTML review page).
    many: ClassVar[bool] = True

    @abstractmethod
    def render(self, results: Sequence[CheckResult], options: RenderOptions) -> str | bytes:
        """The whole report for ``results`` (in the order the transcripts were given)."""


def shown(findings: Sequence[Finding], options: RenderOptions) -> list[Finding]:
    """The findings at or above ``options.show``, in their order."""
    return [f for f in findings if f.severity.rank >= options.show.rank]


def worst_first(findings: Sequence[Finding]) -> list[Finding]:
    """Errors, then warnings, then info; a stable sort, so position order stays within each."""
    return sorted(findings, key=lambda f: -f.severity.rank)


def display_path(path: Path | str, root: Path | None = None) -> str:
    """``path`` relative to ``root`` (default: the current directory) with ``/``
    separators when it lies under it, else as given."""
    p = Path(path)
    base = Path.cwd() if root is None else root
    try:
        rel = Path(os.path.abspath(p)).relative_to(os.path.abspath(base))
    except ValueError:
        return str(p)
    return rel.as_posix()


#: ``--format`` name -> (module in ``ocr_fix.report``, class), in the order ``--help`` lists
#: them. Modules load on use: the HTML page pulls in OpenCV, the others need nothing.
_WHERE: dict[str, tuple[str, str]] = {
    "table": ("table", "TableFormat"),
    "json": ("check_json", "JsonFormat"),
    "github": ("github", "GithubFormat"),
    "html": ("html", "HtmlFormat"),
    "sarif": ("sarif", "SarifFormat"),
    "rdjsonl": ("rdjsonl", "RdjsonlFormat"),
    "compact": ("compact", "CompactFormat"),
}

#: Format names in the order ``--help`` lists them.
FORMATS: tuple[str, ...] = tuple(_WHERE)


def get_format(name: str) -> ReportFormat:
    """The format called ``name``; :class:`UsageError` for an unknown one."""
    if name not in _WHERE:
        raise UsageError(f"unknown format {name!r} (one of {', '.join(FORMATS)})")
    module, cls = _WHERE[name]
    made = getattr(importlib.import_module(f"ocr_fix.report.{module}"), cls)()
    assert isinstance(made, ReportFormat) and made.name == name
    return made
