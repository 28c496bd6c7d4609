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


@pytest.mark.parametrize(
    "command", [[c] for c in COMMANDS] + [["lexicon", "suggest"], ["lexicon", "check"], ["lexicon", "merge"]]
)
def test_help_shows_element_types_and_whole_paragraphs(command: list[str]) -> None:
    """No `<list[Path]>` type, and a docstring's source line breaks do not break the
    wide help mid-sentence (at 200 columns a paragraph wraps only near the width)."""
    text = _help(*command)
    assert "list[" not in text
    body = text.split("Example:")[1].split("╭")[0]
    lines = [line.strip() for line in body.splitlines()]
    paragraphs = "\n".join(lines).strip().split("\n\n")
    for p in paragraphs[1:]:
        *full, _last = p.split("\n")
        assert all(len(line) > 150 for line in full), p  # wrapped only at the terminal's width


def test_check_help_lists_its_exit_codes_and_list_metavars() -> None:
    text = _help("check")
    flat = " ".join(text.split())
    assert "5: unusable lexicon" in flat and "7: Tesseract failed on a page" in flat
    assert re.search(r"--lexicon\s+-l\s+<path>\s", text)


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["check", "t.md", "-f", "bogus"], "'bogus' is not one of"),
        (["check", "--form", "json"], "No such option: --form"),
        (["check"], "Missing argument"),
        (["bogus"], "No such command 'bogus'"),
        (["lexicon", "check"], "Missing argument"),
    ],
)
def test_a_usage_error_is_one_line_exit_2(args: list[str], needle: str) -> None:
    r = runner.invoke(app, args)
    assert r.exit_code == 2
    assert r.stdout == ""
    assert r.stderr.startswith("ocr-fix: ") and r.stderr.count("\n") == 1, r.stderr
    assert needle in r.stderr and "--help)" in r.stderr and "Value error" not in r.stderr


def test_no_arguments_still_show_the_help() -> None:
    r = runner.invoke(app, [])
    assert r.exit_code == 2 and "Commands" in r.output


def test_the_command_s_entry_point_imports_nothing_until_it_runs() -> None:
    """The ``ocr-fix`` script's top runs again in every OCR worker (``spawn``): importing
    its entry point must not import the CLI there."""
    import subprocess
    import sys

    import tomllib

    from tests.conftest import ROOT

    script = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["scripts"]
    module, _, function = script["ocr-fix"].partition(":")
    code = (
        f"import sys; from {module} import {function}; "
        "assert not [m for m in sys.modules if m.split('.')[0] in ('typer', 'rich', 'numpy', 'cv2')]"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, timeout=60)
    ran = subprocess.run(
        [sys.executable, "-c", f"from {module} import {function}; {function}()", "--version"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert ran.returncode == 0 and "ocr-fix" in ran.stdout, ran.stderr
