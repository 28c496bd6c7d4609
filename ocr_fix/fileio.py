"""Reading inputs and writing outputs the same way everywhere.

Inputs: one message per kind of unusable file (missing, directory, binary, UTF-16, bad
UTF-8 with line and column). Outputs: written to a temp file and renamed, so an
interrupted or failed run never leaves half a file."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from ocr_fix.errors import BadInput, InputNotFound, OcrFixError


def write_atomic(path: Path, data: str | bytes) -> None:
    """Write ``data`` to a temp file beside ``path``, then rename it into place."""
    path = Path(path)
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise BadInput("output directory does not exist", directory)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data.encode("utf-8") if isinstance(data, str) else data)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; outputs get the usual mode
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


_BOM = b"\xef\xbb\xbf"


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def read_input(path: Path, what: str = "file") -> bytes:
    """The bytes of an input file; a missing path, a directory or an unreadable file
    becomes the one-line error its exit code documents."""
    path = Path(path)
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise InputNotFound(path) from None
    except IsADirectoryError:
        raise BadInput(f"is a directory, not a {what}", path) from None
    except OSError as exc:
        raise BadInput(f"cannot read: {exc.strerror or exc}", path) from None


def text_problem(raw: bytes, what: str = "text file") -> tuple[int, str] | None:
    """Why ``raw`` is not UTF-8 text, with the line of the first bad byte; None if it is."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return 1, f"UTF-16 text; save the {what} as UTF-8"
    nul = raw.find(b"\x00")
    if nul >= 0:
        line = raw.count(b"\n", 0, nul) + 1
        return line, f"binary file, not a {what} (NUL byte at line {line})"
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = raw[: exc.start]
        line = before.count(b"\n") + 1
        column = len(before[before.rfind(b"\n") + 1 :].decode("utf-8", "replace")) + 1
        return line, f"not UTF-8: byte 0x{raw[exc.start]:02x} at line {line}, column {column}"
    return None


def decode_text(raw: bytes, path: Path, what: str = "text file", error: type[OcrFixError] = BadInput) -> str:
    """UTF-8 text of ``raw`` without a leading BOM; otherwise ``error`` saying why."""
    if raw.startswith(_BOM):
        raw = raw[len(_BOM) :]
    problem = text_problem(raw, what)
    if problem is not None:
        raise error(problem[1], path)
    return raw.decode("utf-8")
