"""Progress display for the CLI: rich bars on a terminal, nothing otherwise.

The core reports ``(stage, done, total)``; only this module knows how it looks.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

Callback = Callable[[str, int, int], None]

_LABEL = {
    "ocr": "OCR pages",
    "align": "aligning",
    "verifier": "asking the image",
    "reread": "second readings",
    "documents": "documents",
    "pages": "pages",
}


@contextmanager
def progress_reporter(enabled: bool = True, console: Console | None = None) -> Iterator[Callback]:
    """Yield a ``(stage, done, total)`` callback drawing one bar per stage on stderr.

    Disabled, or when stderr is not a terminal, the callback does nothing: CI logs and
    pipes stay clean.
    """
    console = console or Console(stderr=True)
    if not enabled or not (console.is_terminal or sys.stderr.isatty()):
        yield lambda stage, done, total: None
        return
    bars = Progress(
        TextColumn("{task.description:>12}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("eta"),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    )
    tasks: dict[str, TaskID] = {}

    def update(stage: str, done: int, total: int) -> None:
        if stage not in tasks:
            tasks[stage] = bars.add_task(_LABEL.get(stage, stage), total=total)
        bars.update(tasks[stage], completed=done, total=total)

    with bars:
        yield update
