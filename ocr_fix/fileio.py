"""Writing outputs so that an interrupted or failed run never leaves half a file."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from ocr_fix.errors import BadInput


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
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
