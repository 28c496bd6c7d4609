"""The CLI as a newcomer meets it: the main job first, no type shown for flags, an
example in every command's help."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from ocr_fix.cli import app

runner = CliRunner()
COMMANDS = ["check", "batch", "fix", "lexicon", "config", "ocr", "score", "synth"]


def _help(*args: str) -> str:
    r = runner.invoke(app, [*args, "--help"], env={"COLUMNS": "200", "NO_COLOR": "1"})
    assert r.exit_code == 0, r.output
    return r.stdout


def test_check_comes_first_and_the_helpers_last() -> None:
    listed = re.findall(r"^│ (\w+) ", _help().split("Commands")[1], re.M)
    assert listed[0] == "check" and listed[-2:] == ["score", "synth"]
    assert sorted(listed) == sorted(COMMANDS)


@pytest.mark.parametrize(
    "command", [[c] for c in COMMANDS] + [["lexicon", "suggest"], ["lexicon", "check"], ["lexicon", "merge"]]
)
def test_every_help_has_an_example_and_no_bool_type(command: list[str]) -> None:
    text = _help(*command)
    assert "<bool>" not in text
    assert f"Example: ocr-fix {command[0]}" in text
