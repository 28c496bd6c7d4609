"""[tool.ocr-fix] / .ocr-fix.toml settings, their precedence, accepted spellings, `ocr-fix config`."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ocr_fix.cli import app
from ocr_fix.config import FORMATS, KEYS, find_config, load_settings
from ocr_fix.report.formats import FORMATS as REPORT_FORMATS
from tests.conftest import ROOT

LEXICON = ROOT / "lexicons" / "psis-400-23.txt"
runner = CliRunner()
WRONG = "Prince Konoye met Prince Kenoye.\n"


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A repository: pyproject.toml with [tool.ocr-fix] at the top, a transcript below."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "lex").mkdir()
    shutil.copy(LEXICON, tmp_path / "lex" / "names.txt")
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "archive"\n\n[tool.ocr-fix]\n'
        'lexicons = ["lex/names.txt"]\nfail-on = "never"\nformat = "compact"\n'
    )
    (tmp_path / "docs" / "a").mkdir(parents=True)
    t = tmp_path / "docs" / "a" / "t.md"
    t.write_text(WRONG)
    return tmp_path


def _check(*args: str):
    return runner.invoke(app, ["check", *args, "--quiet", "--no-cache"])


def test_the_config_applies_with_paths_relative_to_it(project):
    r = _check("docs/a/t.md")
    assert r.exit_code == 0, r.output  # fail-on never
    assert r.stdout.startswith("docs/a/t.md:1:26: error variant: ")  # compact, the lexicon was read


def test_flags_override_the_config(project):
    r = _check("docs/a/t.md", "--fail-on", "error", "-f", "json")
    assert r.exit_code == 1 and r.stdout.startswith("{")
    r = _check("docs/a/t.md", "-l", str(project / "lex" / "none.txt"))
    assert r.exit_code == 3  # the command line's lexicon replaces the config's


def test_the_nearest_file_wins_and_ocr_fix_toml_before_pyproject(project):
    (project / "docs" / ".ocr-fix.toml").write_text('fail-on = "warning"\n')
    assert find_config(project / "docs" / "a" / "t.md") == (project / "docs" / ".ocr-fix.toml").resolve()
    r = _check("docs/a/t.md", "-l", "lex/names.txt")
    assert r.exit_code == 1 and "│" in r.stdout  # .ocr-fix.toml: fail on warnings, table format
    (project / "docs" / "pyproject.toml").write_text('[project]\nname = "x"\n')  # no [tool.ocr-fix]
    assert find_config(project / "docs" / "a") == (project / "docs" / ".ocr-fix.toml").resolve()
    (project / "docs" / ".ocr-fix.toml").unlink()
    assert find_config(project / "docs" / "a") == (project / "pyproject.toml").resolve()


def test_config_option_names_the_file(project, tmp_path):
    other = tmp_path / "ci.toml"
    other.write_text('[tool.ocr-fix]\nformat = "github"\nlexicons = ["lex/names.txt"]\n')
    r = _check("docs/a/t.md", "--config", str(other))
    assert r.exit_code == 1 and r.stdout.startswith("::error file=docs/a/t.md,line=1,col=26")


@pytest.mark.parametrize(
    "body,needle",
    [
        ('colour = "red"\n', "unknown key 'colour'"),
        ('fail-on = "sometimes"\n', "fail-on must be one of"),
        ("jobs = 0\n", "jobs must be a whole number"),
        ("lexicons = [1]\n", "lexicons must be a list"),
        ("fail-on = \n", "not valid TOML"),
    ],
)
def test_bad_config_is_one_line_exit_2(project, body, needle):
    (project / ".ocr-fix.toml").write_text(body)
    r = _check("docs/a/t.md")
    assert r.exit_code == 2 and needle in r.stderr and ".ocr-fix.toml" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_accepted_spellings_from_config_flag_and_file(project):
    r = _check("docs/a/t.md", "--fail-on", "error")
    assert r.exit_code == 1
    with (project / "pyproject.toml").open("a") as fh:
        fh.write('ignore = ["kenoye"]\n')
    assert _check("docs/a/t.md", "--fail-on", "error").exit_code == 0  # any case, punctuation aside
    (project / "pyproject.toml").write_text(
        (project / "pyproject.toml").read_text().replace('ignore = ["kenoye"]\n', 'ignore-file = "ok.txt"\n')
    )
    (project / "ok.txt").write_text("# accepted\nKenoye  # the 1941 spelling\n")
    assert _check("docs/a/t.md", "--fail-on", "error").exit_code == 0
    (project / "ok.txt").write_text("# nothing accepted\n")
    assert _check("docs/a/t.md", "--fail-on", "error").exit_code == 1
    assert _check("docs/a/t.md", "--fail-on", "error", "--ignore", "Kenoye").exit_code == 0


def test_config_command_says_where_each_value_came_from(project):
    r = runner.invoke(app, ["config", "docs/a/t.md", "--format", "sarif"])
    assert r.exit_code == 0, r.output
    rows = {line.split(" = ")[0]: line for line in r.stdout.splitlines() if " = " in line}
    assert set(rows) == set(KEYS)
    pyproject = str((project / "pyproject.toml").resolve())
    assert rows["fail-on"] == f'fail-on = "never"  # {pyproject}'
    assert rows["format"] == 'format = "sarif"  # command line'
    assert rows["show"] == 'show = "warning"  # default'
    assert str((project / "lex" / "names.txt").resolve()) in rows["lexicons"]
    assert '"[illegible]"' in rows["editorial-marks"]


def test_settings_know_every_report_format():
    assert set(FORMATS) == set(REPORT_FORMATS)
    assert load_settings(None, Path("/")).sources["format"] == "default"


def test_the_readme_example_is_a_valid_config(tmp_path):
    readme = (ROOT / "README.md").read_text()
    block = readme[readme.index("```toml\n[tool.ocr-fix]") + len("```toml\n") :]
    (tmp_path / "pyproject.toml").write_text(block[: block.index("```")])
    settings = load_settings(None, tmp_path)
    assert {k for k, v in settings.sources.items() if v != "default"} == set(KEYS)
    from ocr_fix.editorial import DEFAULT_EDITORIAL_MARKS

    assert settings["editorial-marks"] == DEFAULT_EDITORIAL_MARKS


def test_scans_on_the_command_line_override_the_configs_scans(project):
    """`scans = "auto"` in the config and a scan named on the command line: the command
    line wins, as for every other setting; only --scans given with scans is ambiguous."""
    from tests.fakes import FakeEngine, OcrCliRunner

    with open(project / "pyproject.toml", "a") as f:
        f.write('scans = "auto"\n')
    page = project / "scan" / "01.png"
    page.parent.mkdir()
    shutil.copy(ROOT / "scans" / "psis-400-23" / "01.png", page)
    ocr = OcrCliRunner(FakeEngine({"01.png": WRONG.replace("Kenoye", "Konoye")}))
    r = ocr.invoke(app, ["check", "docs/a/t.md", "scan/01.png", "--quiet", "--no-cache", "--jobs", "1"])
    assert r.exit_code == 0, r.output  # fail-on never
    assert "docs/a/t.md:1:26: error substitution: " in r.stdout  # the scan was used
    r = ocr.invoke(app, ["check", "docs/a/t.md", "scan/01.png", "--scans", "auto", "--quiet", "--no-cache"])
    assert r.exit_code == 2 and "not both" in r.output
