"""Typer application: each command lives in its own module and stays thin
(parse options -> pipeline -> formatter -> exit code)."""

from __future__ import annotations

import inspect
import re
import sys
from typing import Any

import typer
from typer.core import TyperGroup

from ocr_fix import __version__

#: The order ``ocr-fix --help`` lists the commands in: the main job first, then what
#: works on its results, the building blocks, and the helpers for test material last.
COMMAND_ORDER = ("check", "batch", "fix", "lexicon", "config", "ocr", "score", "synth")


def _flags_without_type(command: Any) -> None:
    """Typer's help prints a type column for every option and shows ``<bool>`` for an
    on/off flag, which takes no value at all: flags get an empty one, here and in every
    subcommand (the help option is made on demand, so it is cleared as it is made)."""
    for param in command.params:
        if getattr(param, "is_flag", False) and param.metavar is None:
            param.metavar = ""
        elif hasattr(param, "display_type"):
            param.display_type = _element_type(param.display_type, param.param_type_name == "argument")
    if command.help:
        command.help = reflow(command.help)
    make_help = command.get_help_option

    def get_help_option(ctx: Any) -> Any:
        option = make_help(ctx)
        if option is not None:
            option.metavar = ""
        return option

    command.get_help_option = get_help_option
    for sub in getattr(command, "commands", {}).values():
        _flags_without_type(sub)


# Click's exception classes, as the Click that Typer runs on defines them (recent Typers
# vendor their own copy, so ``import click`` would name other classes).
_USAGE_ERROR: type[Any] = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "UsageError")
_CLICK_EXCEPTION: type[Any] = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException")


def _element_type(display_type: Any, many: bool) -> Any:
    """Typer shows a repeatable option or a many-valued argument as ``<list[Path]>``;
    show its element type, ``<path>`` (one per ``--option``) or ``<path>...``."""

    def shown(ctx: Any) -> str:
        label = str(display_type(ctx))
        m = re.fullmatch(r"<list\[(.+)\]>", label)
        return label if m is None else f"<{m.group(1).lower()}>" + ("..." if many else "")

    return shown


def reflow(help_text: str) -> str:
    """``help_text`` with each paragraph on one line. Typer's rich help keeps a
    docstring's single line breaks after the first paragraph, so lines wrapped at 90
    columns in the source broke again mid-sentence at the terminal's width. A line
    starting with ``-`` or ``*`` (a list item) keeps its break."""
    paragraphs = inspect.cleandoc(help_text).split("\n\n")
    return "\n\n".join(re.sub(r"\n(?![-*] )", " ", p) for p in paragraphs)


class _Commands(TyperGroup):
    """The root group: commands in :data:`COMMAND_ORDER`, flags without a type."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _flags_without_type(self)

    def main(  # type: ignore[override]
        self,
        args: Any = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **kwargs: Any,
    ) -> Any:
        """As Typer's, but a usage error (unknown option, bad value, missing argument) is
        one line on stderr, like every other error of ocr-fix, instead of the usage, a
        hint and a framed box; still exit 2."""
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, False, **kwargs)
        try:
            rv = super().main(args, prog_name, complete_var, False, **kwargs)
        except _USAGE_ERROR as exc:
            if type(exc).__name__ == "NoArgsIsHelpError" or exc.ctx is None:
                from typer import rich_utils

                rich_utils.rich_format_error(exc)
            else:
                # (recent Typers validate choices with pydantic, which prefixes "Value error, ")
                message = " ".join(exc.format_message().replace("Value error, ", "").split())
                typer.echo(f"ocr-fix: {message} (see: {exc.ctx.command_path} --help)", err=True)
            sys.exit(exc.exit_code)
        except _CLICK_EXCEPTION as exc:
            from typer import rich_utils

            rich_utils.rich_format_error(exc)
            sys.exit(exc.exit_code)
        except typer.Abort:
            typer.echo("Aborted!", err=True)
            sys.exit(1)
        sys.exit(rv if isinstance(rv, int) else 0)

    def list_commands(self, ctx: Any) -> list[str]:
        names = super().list_commands(ctx)
        rank = {name: i for i, name in enumerate(COMMAND_ORDER)}
        return sorted(names, key=lambda n: rank.get(n, len(rank)))


app = typer.Typer(
    cls=_Commands,
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
