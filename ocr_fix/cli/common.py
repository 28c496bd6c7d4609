"""What every command shares: error handling, consoles, the scans argument."""

from __future__ import annotations

import contextlib
import functools
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import ParamSpec, TypeVar

import typer
from rich.console import Console

from ocr_fix.errors import ExitCode, OcrFixError, Terminated
from ocr_fix.fileio import remove_scratch, temp_root
from ocr_fix.pipeline import EngineFactory, engine_for

P = ParamSpec("P")
R = TypeVar("R")

#: Diagnostics go to stderr so stdout stays clean for JSON and annotations.
err_console = Console(stderr=True, highlight=False, soft_wrap=True)


def fail(message: str, code: ExitCode) -> None:
    """Print ``ocr-fix: message`` on one line of stderr and exit with ``code``."""
    err_console.print(f"[bold red]ocr-fix:[/] {message}", markup=True, highlight=False)
    raise typer.Exit(int(code))


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """While the command runs, SIGTERM raises :class:`Terminated` in the main thread, so
    it stops the run like Ctrl-C does: pages cancelled, workers and their Tesseract
    processes killed, temp files removed, exit 143. Further SIGTERMs during that
    cleanup are ignored (SIGKILL still works)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: object) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        raise Terminated()

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def handles_errors(fn: Callable[P, R]) -> Callable[P, R]:
    """Turn :class:`OcrFixError`, Ctrl-C and SIGTERM into one line and the documented
    exit code."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        temp_root()  # found while this process has one thread (see temp_root)
        try:
            with sigterm_as_interrupt():
                return fn(*args, **kwargs)
        except OcrFixError as exc:
            fail(_escape(str(exc)), exc.exit_code)
        except Terminated:
            _stop_children()
            fail("terminated (SIGTERM)", ExitCode.TERMINATED)
        except KeyboardInterrupt:
            _stop_children()
            fail("interrupted", ExitCode.INTERRUPTED)
        except BrokenPipeError:
            sys.stderr.close()
            raise typer.Exit(int(ExitCode.OK)) from None
        raise AssertionError("unreachable")  # fail() always raises

    return wrapper


def _stop_children() -> None:
    """Kill any Tesseract this process still runs in a thread (second readings) and remove
    its temp files, and any scratch directory an interruption caught half made; the worker
    pools were stopped on the way out."""
    tesseract = sys.modules.get("ocr_fix.ocr.tesseract")
    if tesseract is not None:
        tesseract.stop_all()
    remove_scratch()


def _escape(text: str) -> str:
    from rich.markup import escape

    from ocr_fix.report.visible import visible

    return escape(visible(text.replace("\n", " ")))


@dataclass(frozen=True)
class Services:
    """What the commands build their OCR engine with. ``main`` uses the defaults; a test
    hands in another with ``CliRunner().invoke(app, args, obj=Services(engines=...))``."""

    engines: EngineFactory = engine_for


def services(ctx: typer.Context) -> Services:
    """The :class:`Services` handed to the command's context (the defaults without)."""
    found = ctx.find_object(Services)
    return found if found is not None else Services()
