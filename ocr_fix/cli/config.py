"""``ocr-fix config``: the effective settings and where each came from."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from ocr_fix.cli import app
from ocr_fix.cli.common import handles_errors
from ocr_fix.config import KEYS, load_settings


@app.command("config")
@handles_errors
def config_command(
    path: Path | None = typer.Argument(
        None, help="A transcript or folder to look for the config file from (default: here)."
    ),
    config: Path | None = typer.Option(None, "--config", help="Use this settings file instead."),
    lexicon: list[Path] | None = typer.Option(None, "--lexicon", "-l", help="As for check."),
    fmt: str | None = typer.Option(None, "--format", "-f", help="As for check."),
    fail_on: str | None = typer.Option(None, "--fail-on", help="As for check."),
    show: str | None = typer.Option(None, "--show", help="As for check."),
    jobs: int | None = typer.Option(None, "--jobs", "-j", help="As for check."),
    lang: str | None = typer.Option(None, "--lang", help="As for check."),
) -> None:
    """Print the settings `check` would use, each with where it came from.

    Example: ocr-fix config .

    The file is .ocr-fix.toml or pyproject.toml (its tool.ocr-fix table), the nearest at or above
    PATH; options given here (as to `check`) override it. Exit 2 for an unknown key or a
    bad value.
    """
    settings = load_settings(config, path).override(
        {
            "lexicons": [str(p) for p in lexicon or ()],
            "format": fmt,
            "fail-on": fail_on,
            "show": show,
            "jobs": jobs,
            "lang": lang,
        }
    )
    found = str(settings.file) if settings.file is not None else "none found (defaults only)"
    lines = [f"# config file: {found}"]
    for key in KEYS:
        value = settings[key]
        shown = json.dumps(list(value) if isinstance(value, tuple) else value, ensure_ascii=False)
        lines.append(f"{key} = {shown}  # {settings.sources[key]}")
    typer.echo("\n".join(lines))
