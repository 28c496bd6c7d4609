"""The README's reference parts match the code: exit codes, finding kinds, JSON keys."""

from __future__ import annotations

import json
import re

import typer
from typer.testing import CliRunner

from ocr_fix.cli import app
from ocr_fix.errors import ExitCode
from ocr_fix.model import Kind
from tests.conftest import ROOT

README = (ROOT / "README.md").read_text()


def test_the_exit_code_table_lists_every_exit_code() -> None:
    table = README.split("## Exit codes")[1].split("\n## ")[0]
    documented = {int(m) for m in re.findall(r"^\| (\d+) \|", table, re.M)}
    assert documented == {int(c) for c in ExitCode}


def test_the_json_description_names_every_kind_and_top_level_key(tmp_path) -> None:
    para = README.split("**JSON** (`--format json`")[1].split("\n\n")[0]
    for kind in Kind:
        assert f"`{kind.value}`" in para, kind
    t = tmp_path / "t.md"
    t.write_text("Prince Konoye met Prince Kenoye.\n")
    r = CliRunner().invoke(
        app, ["check", str(t), "-l", str(ROOT / "lexicons" / "psis-400-23.txt"), "-f", "json", "-q"]
    )
    assert r.exit_code == 1, r.output
    for key in json.loads(r.stdout):
        assert re.search(rf"`{key}[`:]", para), key  # `key` or `key: [...]`


def test_the_command_table_names_every_command() -> None:
    table = README.split("## Commands")[1].split("\n## ")[0].split("\n\n")[1]
    listed = set(re.findall(r"^\| `ocr-fix (\w+)", table, re.M))
    assert listed == set(typer.main.get_command(app).commands)  # type: ignore[attr-defined]
