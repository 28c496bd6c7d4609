"""What every command shares: error handling, consoles, the scans argument."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import typer
from rich.console import Console

from ocr_fix.errors import ExitCode, OcrFixError

P = ParamSpec("P")
R = TypeVar("R")

#: Diagnostics go to stderr so stdout stays clean for JSON and annotations.
err_console = Console(stderr=True, highlight=False, soft_wrap=True)


def fail(message: str, code: ExitCode) -> None:
    """Print ``ocr-fix: message`` on one line of stderr and exit with ``code``."""
    err_console.print(f"[bold red]ocr-fix:[/] {message}", markup=True, highlight=False)
    raise typer.Exit(int(code))


def handles_errors(fn: Callable[P, R]) -> Callable[P, R]:
    """Turn :class:`OcrFixError` and Ctrl-C into one line and the documented exit code."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except OcrFixError as exc:
            fail(_escape(str(exc)), exc.exit_code)
        except KeyboardInterrupt:
            fail("interrupted", ExitCode.INTERRUPTED)
        except BrokenPipeError:
            sys.stderr.close()
            raise typer.Exit(int(ExitCode.OK)) from None
        raise AssertionError("unreachable")  # fail() always raises

    return wrapper


def _escape(text: str) -> str:
    from rich.markup import escape

    from ocr_fix.report.visible import visible

    return escape(visible(text.replace("\n", " ")))
