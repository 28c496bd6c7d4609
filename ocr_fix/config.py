"""Project settings: ``[tool.ocr-fix]`` in ``pyproject.toml``, or ``.ocr-fix.toml``.

The file is looked for upward from the first transcript's folder (from the current
directory when there is none); in each folder ``.ocr-fix.toml`` wins over
``pyproject.toml``, and a ``pyproject.toml`` without a ``[tool.ocr-fix]`` table is passed
over. ``--config FILE`` names one instead. Keys are named like the long options
(:data:`KEYS`); paths in the file are relative to the file. Options given on the command
line override the file, which overrides the built-in defaults; :class:`Settings` keeps
where every value came from so ``ocr-fix config`` can say.

In ``.ocr-fix.toml`` the keys may sit at the top level or under ``[tool.ocr-fix]``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ocr_fix.editorial import DEFAULT_EDITORIAL_MARKS
from ocr_fix.errors import InputNotFound, UsageError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

__all__ = ["DEFAULT_EDITORIAL_MARKS", "KEYS", "Settings", "find_config", "load_settings"]

CONFIG_NAMES = (".ocr-fix.toml", "pyproject.toml")
TABLE = "ocr-fix"

SEVERITIES = ("error", "warning", "info")
FAIL_ON = (*SEVERITIES, "never")
FORMATS = ("table", "json", "github", "html", "sarif", "rdjsonl", "compact")


def _choice(options: tuple[str, ...]) -> Callable[[Any, str], Any]:
    def check(value: Any, key: str) -> Any:
        if value not in options:
            raise ValueError(f"{key} must be one of {', '.join(options)}, not {value!r}")
        return value

    return check


def _int_min1(value: Any, key: str) -> Any:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{key} must be a whole number of at least 1, not {value!r}")
    return value


def _string(value: Any, key: str) -> Any:
    if not isinstance(value, str) or not value:
        raise ValueError(f"{key} must be a non-empty string, not {value!r}")
    return value


def _strings(value: Any, key: str) -> Any:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ValueError(f"{key} must be a list of non-empty strings, not {value!r}")
    return tuple(value)


@dataclass(frozen=True, slots=True)
class Key:
    """One setting: how a file value is checked, whether it names paths, its default."""

    check: Callable[[Any, str], Any]
    default: Any
    paths: bool = False  # relative to the config file
    help: str = ""


KEYS: dict[str, Key] = {
    "lexicons": Key(_strings, (), paths=True, help="lexicon files"),
    "scans": Key(_string, None, paths=True, help="'auto' or a folder of scans"),
    "fail-on": Key(_choice(FAIL_ON), "error", help="exit 1 at or above this severity"),
    "format": Key(_choice(FORMATS), "table", help="output format"),
    "show": Key(_choice(SEVERITIES), "warning", help="lowest severity listed"),
    "editorial-marks": Key(_strings, DEFAULT_EDITORIAL_MARKS, help="marks aligned as wildcards"),
    "ignore": Key(_strings, (), help="accepted spellings, never flagged"),
    "ignore-file": Key(_string, None, paths=True, help="file of accepted spellings, one a line"),
    "baseline": Key(_string, None, paths=True, help="report of accepted findings"),
    "jobs": Key(_int_min1, None, help="pages OCRed in parallel"),
    "lang": Key(_string, "eng", help="Tesseract language(s)"),
}


@dataclass(frozen=True)
class Settings:
    """Effective values and, per key, where each came from: ``default``,
    ``command line`` or ``FILE``."""

    values: Mapping[str, Any]
    sources: Mapping[str, str]
    file: Path | None = None

    def __getitem__(self, key: str) -> Any:
        return self.values[key]

    def override(self, given: Mapping[str, Any]) -> Settings:
        """These settings with the command line's values (None: not given) on top."""
        values, sources = dict(self.values), dict(self.sources)
        for key, value in given.items():
            if key not in KEYS:
                raise KeyError(key)
            if value is None or (isinstance(value, (list, tuple)) and not value):
                continue
            values[key] = tuple(value) if isinstance(value, list) else value
            sources[key] = "command line"
        return Settings(values, sources, self.file)


def find_config(start: Path) -> Path | None:
    """The nearest config file at or above ``start`` (a folder or a file's folder)."""
    here = Path(start).resolve()
    if not here.is_dir():
        here = here.parent
    for folder in (here, *here.parents):
        for name in CONFIG_NAMES:
            candidate = folder / name
            if candidate.is_file() and (name != "pyproject.toml" or _has_table(candidate)):
                return candidate
    return None


def _has_table(path: Path) -> bool:
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return False
    return isinstance(doc.get("tool"), dict) and TABLE in doc["tool"]


def _table(path: Path) -> dict[str, Any]:
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UsageError(f"cannot read config ({exc.strerror})", path) from None
    except UnicodeDecodeError:
        raise UsageError("config is not UTF-8 text", path) from None
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"config is not valid TOML ({exc})", path) from None
    tool = doc.get("tool")
    if isinstance(tool, dict) and TABLE in tool:
        table = tool[TABLE]
        if not isinstance(table, dict):
            raise UsageError(f"[tool.{TABLE}] must be a table", path)
        return table
    if path.name == "pyproject.toml":
        return {}
    return {k: v for k, v in doc.items() if k != "tool"}


def load_settings(config: Path | None = None, start: Path | None = None) -> Settings:
    """Defaults, overridden by ``config`` (or the file found from ``start``)."""
    values = {key: spec.default for key, spec in KEYS.items()}
    sources = dict.fromkeys(KEYS, "default")
    if config is not None and not Path(config).exists():
        raise InputNotFound(config)
    path = Path(config) if config is not None else find_config(start if start is not None else Path.cwd())
    if path is None:
        return Settings(values, sources)
    base = path.resolve().parent
    for key, raw in _table(path).items():
        spec = KEYS.get(key)
        if spec is None:
            raise UsageError(f"unknown key {key!r} (known: {', '.join(KEYS)})", path)
        try:
            value = spec.check(raw, key)
        except ValueError as exc:
            raise UsageError(str(exc), path) from None
        if spec.paths:
            value = _relative(value, base)
        values[key] = value
        sources[key] = str(path)
    return Settings(values, sources, path)


def _relative(value: Any, base: Path) -> Any:
    if isinstance(value, tuple):
        return tuple(str(base / v) for v in value)
    return value if value == "auto" else str(base / value)
