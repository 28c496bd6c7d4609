"""Exit codes and the exceptions that carry them.

Every failure a user can cause or meet ends in one line on stderr and a documented exit
code. Code raises an :class:`OcrFixError` subclass; the CLI is the only place that turns
it into a message and ``sys.exit`` — nothing matches on message text.
"""

from __future__ import annotations

from enum import IntEnum
from pathlib import Path


class ExitCode(IntEnum):
    """Documented process exit codes (see README, "Exit codes")."""

    OK = 0
    FINDINGS = 1  # findings at or above --fail-on
    USAGE = 2  # bad options (Typer/Click's own code)
    NOT_FOUND = 3  # an input file or directory does not exist
    BAD_INPUT = 4  # unreadable, corrupt, empty, binary or non-UTF-8 input
    BAD_LEXICON = 5  # lexicon file that cannot be used (bad regex at line N, ...)
    TESSERACT_MISSING = 6  # the tesseract binary (or a language) is not installed
    OCR_FAILED = 7  # Tesseract crashed or timed out on a page
    PARTIAL = 8  # batch finished, but some documents failed
    STALE = 9  # fix: the transcript changed since the findings were made
    CANNOT_WRITE = 10  # an output cannot be written (read-only, full, a directory, ...)
    OUTPUT_IN_USE = 11  # batch: another run holds the output folder
    INTERRUPTED = 130  # Ctrl-C (SIGINT)
    TERMINATED = 143  # SIGTERM: stopped, workers and temp files cleaned up


class OcrFixError(Exception):
    """Base of all expected failures; ``exit_code`` is what the process returns."""

    exit_code: ExitCode = ExitCode.BAD_INPUT

    def __init__(self, message: str, path: Path | str | None = None) -> None:
        self.path = Path(path) if path is not None else None
        super().__init__(f"{path}: {message}" if path is not None else message)


class InputNotFound(OcrFixError):
    exit_code = ExitCode.NOT_FOUND

    def __init__(self, path: Path | str, what: str = "no such file or directory") -> None:
        super().__init__(what, path)


class BadInput(OcrFixError):
    exit_code = ExitCode.BAD_INPUT


class LexiconError(OcrFixError):
    exit_code = ExitCode.BAD_LEXICON


class TesseractMissing(OcrFixError):
    exit_code = ExitCode.TESSERACT_MISSING


class OcrFailed(OcrFixError):
    exit_code = ExitCode.OCR_FAILED


class StaleFindings(OcrFixError):
    exit_code = ExitCode.STALE


class UsageError(OcrFixError):
    exit_code = ExitCode.USAGE


class CannotWrite(OcrFixError):
    """An output could not be written; nothing was left half-written."""

    exit_code = ExitCode.CANNOT_WRITE


class OutputInUse(OcrFixError):
    exit_code = ExitCode.OUTPUT_IN_USE


class Terminated(KeyboardInterrupt):
    """SIGTERM arrived. Raised in the main thread by the CLI's handler; a subclass of
    KeyboardInterrupt so every cleanup written for Ctrl-C (cancel pages, stop workers,
    remove temp files) runs for it too and no ``except Exception`` swallows it."""

    exit_code = ExitCode.TERMINATED
