"""Typer application: each command lives in its own module and stays thin
(parse options -> pipeline -> formatter -> exit code)."""

from __future__ import annotations

from typing import Optional

import typer

from ocr_fix import __version__

app = typer.Typer(
    name="ocr-fix",
    help="OCR correction and scan fidelity: re-OCR page scans, align them with a "
    "transcript, and flag where the transcript is wrong.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"ocr-fix {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool | None = typer.Option(
        None, "--version", callback=_version, is_eager=True, help="Show the version and exit."
    ),
) -> None:
    """OCR correction and scan fidelity."""


def _register() -> None:
    import importlib

    for name in ("synth", "ocr", "score", "check", "batch", "fix", "lexicon", "config"):
        try:
            importlib.import_module(f"ocr_fix.cli.{name}")
        except ModuleNotFoundError as exc:  # command not built yet
            if exc.name != f"ocr_fix.cli.{name}":
                raise


_register()


def main() -> None:
    app()
