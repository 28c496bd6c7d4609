"""The content-addressed OCR cache."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

from ocr_fix.errors import BadInput
from ocr_fix.fileio import write_scratch
from ocr_fix.model import Page, PageRef
from ocr_fix.ocr.engine import OcrEngine
from ocr_fix.ocr.formats import page_from_json, page_to_json
from ocr_fix.scans import content_key


class OcrCache:
    """OCR results on disk, keyed by page content and engine (settings + version).

    One JSON file per page under ``<dir>/<2 hex>/<key>.json``, written atomically, so
    concurrent runs and interrupted runs never see half a file. A file that cannot be
    read counts as a miss, and a cache that cannot be written is skipped: the cache only
    ever saves time.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)

    @classmethod
    def default(cls) -> OcrCache:
        from platformdirs import user_cache_dir

        return cls(Path(user_cache_dir("ocr-fix")) / "ocr")

    def key(self, ref: PageRef, engine: OcrEngine) -> str:
        return hashlib.sha256(f"{content_key(ref)}|{engine.cache_token()}".encode()).hexdigest()

    def _path(self, key: str) -> Path:
        return self.directory / key[:2] / f"{key}.json"

    def get(self, ref: PageRef, engine: OcrEngine) -> Page | None:
        data = self.get_json(self.key(ref, engine))
        try:
            page = page_from_json(data) if data is not None else None
        except BadInput:
            return None
        return replace(page, ref=ref) if page is not None else None

    def put(self, ref: PageRef, engine: OcrEngine, page: Page) -> None:
        self.put_json(self.key(ref, engine), page_to_json(page))

    def get_json(self, key: str) -> Any:
        """Any JSON stored under ``key``, or None on a miss or an unreadable file."""
        try:
            return json.loads(self._path(key).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            return None

    def put_json(self, key: str, data: Any) -> None:
        path = self._path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError:  # a cache that cannot be written is skipped
            return
        # dumps, not dump: only the one-shot encoder is the C one (5x faster).
        text = json.dumps(data, separators=(",", ":")).encode("utf-8")
        write_scratch(path, lambda fh: fh.write(text))
