"""Reading inputs and writing outputs the same way everywhere.

Inputs: one message per kind of unusable file (missing, directory, binary, UTF-16, bad
UTF-8 with line and column). Outputs: written to a temp file, synced and renamed, so an
interrupted or failed run never leaves half a file, and never written over an input.
Scratch directories (:func:`scratch_dir`): made so that an interruption at any instant
leaves nothing behind."""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import stat
import sys
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

from ocr_fix.errors import BadInput, CannotWrite, InputNotFound, OcrFixError, OutputInUse, UsageError


def write_atomic(path: Path, data: str | bytes, mode: int | None = None) -> None:
    """Write ``data`` to a temp file beside ``path``, fsync it, then rename it into place.

    A symlink is written through (its target is replaced, the link stays); a device or
    FIFO (``-o /dev/stdout``) is written to as it is, never replaced by a file. The file gets
    ``mode``, else the mode of the file it replaces, else the usual ``0666 & ~umask``; the
    temp file has that mode before any byte is written, so a 0600 file is never readable
    by others, not even for a moment. Any OS error (read-only or full disk, a directory
    in the way) becomes :class:`CannotWrite` and the temp file is removed.
    """
    path = Path(path)
    try:
        special = not stat.S_ISREG(os.stat(path).st_mode) and not path.is_dir()
    except OSError:
        special = False
    if special:  # /dev/stdout, /dev/null, a FIFO: written as they are, never replaced
        _write_special(path, data)
        return
    if path.is_symlink():
        path = Path(os.path.realpath(path))
    directory = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise CannotWrite("is a directory; give a file name", path)
    if not directory.is_dir():
        raise CannotWrite("output directory does not exist", directory)
    if mode is None:
        mode = _existing_mode(path)
    tmp: str | None = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
        with os.fdopen(fd, "wb") as fh:
            os.fchmod(fh.fileno(), mode)
            fh.write(data.encode("utf-8") if isinstance(data, str) else data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        tmp = None
        _fsync_dir(directory)
    except OSError as exc:
        raise CannotWrite(f"cannot write: {exc.strerror or exc}", path) from None
    finally:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)


def write_scratch(path: Path, write: Callable[[BinaryIO], object]) -> bool:
    """Best effort, for caches and scratch files: ``write`` fills a temp file beside
    ``path``, which is then renamed into place, so a reader in another process sees the
    old file or the whole new one, never half. No fsync: a copy lost to a crash is
    computed again. An OS error (a full disk, the directory gone) keeps nothing and
    returns False; an interruption (Ctrl-C, SIGTERM) removes the temp file and goes on."""
    try:
        fd, tmp = tempfile.mkstemp(prefix=".", suffix=".tmp", dir=path.parent)
    except OSError:
        return False
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
        os.replace(tmp, path)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if not isinstance(exc, OSError):
            raise
        return False
    return True


def _write_special(path: Path, data: str | bytes) -> None:
    try:
        with open(path, "wb") as fh:
            fh.write(data.encode("utf-8") if isinstance(data, str) else data)
    except OSError as exc:
        raise CannotWrite(f"cannot write: {exc.strerror or exc}", path) from None


def make_dir(path: Path) -> None:
    """Create an output directory (and its parents); an OS error is :class:`CannotWrite`."""
    try:
        Path(path).mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise CannotWrite("exists and is not a directory", path) from None
    except OSError as exc:
        raise CannotWrite(f"cannot create directory: {exc.strerror or exc}", path) from None


#: The lock file a ``batch`` run holds in its output folder.
DIR_LOCK = ".ocr-fix.lock"


@contextlib.contextmanager
def locked_dir(
    directory: Path, wait: bool = True, on_wait: Callable[[], None] | None = None
) -> Iterator[None]:
    """Hold ``directory/DIR_LOCK`` (an OS file lock, released even when the process
    dies) for the duration. Another holder: wait for it, calling ``on_wait`` first, or
    with ``wait=False`` raise :class:`OutputInUse`."""
    from filelock import FileLock, Timeout

    lock = FileLock(str(Path(directory) / DIR_LOCK))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        if not wait:
            raise OutputInUse(
                "in use by another ocr-fix batch run (its lock is held); try later", directory
            ) from None
        if on_wait is not None:
            on_wait()
        lock.acquire()
    except OSError as exc:
        raise CannotWrite(f"cannot lock: {exc.strerror or exc}", directory) from None
    try:
        yield
    finally:
        lock.release()


def _existing_mode(path: Path) -> int:
    try:
        st = path.stat()
    except OSError:
        return 0o666 & ~_umask()
    return stat.S_IMODE(st.st_mode) if stat.S_ISREG(st.st_mode) else 0o666 & ~_umask()


def _fsync_dir(directory: Path) -> None:
    """Make the rename itself durable; some file systems cannot open a directory."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def refuse_input_as_output(
    outputs: Iterable[Path | None], inputs: Iterable[Path | None], dir_suffixes: Iterable[str] = ()
) -> None:
    """:class:`UsageError` (exit 2) when an output path is one of the inputs.

    Two paths are the same file when they resolve to the same path or name the same
    inode (a symlink or a hard link). A directory input stands for its non-hidden files
    ending in one of ``dir_suffixes`` (the files a command reads from it). Checked before
    any work, so a run that would replace its own input does nothing at all.
    """
    suffixes = {s.lower() for s in dir_suffixes}
    files: list[Path] = []
    for raw in inputs:
        if raw is None:
            continue
        path = Path(raw)
        if path.is_dir():
            try:
                entries = list(path.iterdir()) if suffixes else []
            except OSError:  # unreadable: the command itself reports it
                entries = []
            files.extend(p for p in entries if p.suffix.lower() in suffixes and not p.name.startswith("."))
        else:
            files.append(path)
    for out in outputs:
        if out is None:
            continue
        target = Path(os.path.realpath(out))
        if target.exists() and not target.is_file():
            continue  # a device or FIFO (/dev/stdout) is written to, not replaced
        identity = _identity(target)
        for inp in files:
            if target == Path(os.path.realpath(inp)) or (identity is not None and identity == _identity(inp)):
                raise UsageError(f"output would overwrite the input {inp}; choose another path", out)


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_dev, st.st_ino)


_BOM = b"\xef\xbb\xbf"


def _umask() -> int:
    """The process umask, read without setting it where the OS allows (Linux)."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
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


# --- scratch directories ---------------------------------------------------------------

#: Scratch directories of this process that exist or are being made (:func:`scratch_dir`):
#: what :func:`remove_scratch` removes. Process-wide because directories are. Reentrant:
#: an OCR worker's SIGTERM handler runs in the thread it interrupts, which may hold it.
_scratch_lock = threading.RLock()
_scratch: set[str] = set()


def temp_root() -> str:
    """The system's temp directory (``TMPDIR``, ...) as :func:`tempfile.gettempdir` finds
    it, with Ctrl-C and SIGTERM held back while it looks.

    The first call of ``gettempdir`` in a process writes and deletes a probe file with a
    random name (``suaxv0m5``) there, and Ctrl-C and SIGTERM become exceptions (or, in
    an OCR worker, an exit) at any instant: one arriving between the two left the file
    behind (``check`` stopped by SIGTERM just after its Tesseract version check, which
    the probe follows by 2 ms; seen once in about 9 runs of the test suite). Held back, the
    signal is delivered once the probe is gone. Airtight while the process runs one
    thread, so the CLI and each OCR worker call this first; later calls only read the
    answer."""
    if sys.platform == "win32":  # no signal masks; no SIGTERM handler either
        return tempfile.gettempdir()
    held = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    try:
        return tempfile.gettempdir()
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, held)


@contextlib.contextmanager
def scratch_dir(prefix: str, parent: str | None = None) -> Iterator[str]:
    """A new directory ``prefix`` + 8 random hex digits in ``parent`` (else
    :func:`temp_root`), removed with all it holds at the end.

    Its name is registered before the directory is made, so an interruption at any
    instant (between ``mkdir`` and the ``with`` block included, where
    :class:`tempfile.TemporaryDirectory` would lose it) leaves nothing that
    :func:`remove_scratch` does not remove."""
    root = parent if parent is not None else temp_root()
    made: str | None = None
    try:
        for _ in range(100):
            candidate = os.path.join(root, prefix + secrets.token_hex(4))
            with _scratch_lock:
                _scratch.add(candidate)
            try:
                os.mkdir(candidate, 0o700)
            except FileExistsError:  # someone else's: never ours to remove
                with _scratch_lock:
                    _scratch.discard(candidate)
                continue
            except BaseException:
                made = candidate  # maybe made before the interruption: removed below
                raise
            made = candidate
            break
        else:
            raise FileExistsError(f"no free name for a scratch directory in {root}")
        yield made
    finally:
        if made is not None:
            shutil.rmtree(made, ignore_errors=True)
            with _scratch_lock:
                _scratch.discard(made)


def remove_scratch() -> None:
    """Remove every scratch directory of this process, finished or not (Ctrl-C, SIGTERM:
    the run is being stopped). Safe to call more than once."""
    with _scratch_lock:
        paths = list(_scratch)
    for path in paths:
        shutil.rmtree(path, ignore_errors=True)
