"""--baseline / --write-baseline: judged findings stay suppressed across edits elsewhere."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ocr_fix.cli import app
from ocr_fix.model import Finding, Kind, Severity
from ocr_fix.suppress import context, fingerprint
from ocr_fix.transcript import Transcript
from tests.conftest import ROOT
from tests.fakes import FakeEngine, OcrCliRunner

SCANS = ROOT / "scans" / "psis-400-23"
GOLDEN = ROOT / "golden" / "psis-400-23"
LEXICON = ROOT / "lexicons" / "psis-400-23.txt"
runner = OcrCliRunner()


@pytest.fixture(autouse=True)
def _real_engine_unless_a_fixture_sets_one():
    runner.engine = None


@pytest.fixture
def doc(tmp_path, monkeypatch):
    d = tmp_path / "doc"
    d.mkdir()
    shutil.copy(SCANS / "03.png", d / "03.png")
    engine = FakeEngine({"03.png": (GOLDEN / "03.gt.txt").read_text()})
    runner.engine = engine  # this test's commands OCR with the fake
    monkeypatch.chdir(tmp_path)
    t = d / "transcript.md"
    t.write_text("\n".join((SCANS / "transcript.md").read_text().split("\n")[52:60]) + "\n")
    return t


def _check(*args: str):
    return runner.invoke(app, ["check", *args, "--jobs", "1", "--no-cache", "--quiet", "-l", str(LEXICON)])


def _errors(out: str) -> list[str]:
    return [line for line in out.splitlines() if ": error " in line]


@pytest.mark.parametrize("fmt", ["json", "sarif"])
def test_a_baseline_survives_an_edit_elsewhere_in_the_file(doc, fmt):
    r = _check("doc/transcript.md", "--scans", "auto", "-f", fmt, "-o", f"base.{fmt}", "--show", "info")
    assert r.exit_code == 1
    before = _errors(_check("doc/transcript.md", "--scans", "auto", "-f", "compact").stdout)
    assert any("Kenoye's" in line for line in before)
    # Edit elsewhere: a new paragraph at the top moves every later finding down two lines,
    # and a new error (a misspelt name) in the last paragraph.
    text = doc.read_text()
    assert text.count("Togo's") == 1
    doc.write_text("Editor's note: copied from the carbon.\n\n" + text.replace("Togo's", "Tpgo's"))
    r = _check("doc/transcript.md", "--scans", "auto", "-f", "compact", "--baseline", f"base.{fmt}")
    after = _errors(r.stdout)
    assert not any("Kenoye's" in line for line in after), after  # still suppressed, two lines down
    assert any("Tpgo" in line for line in after), after  # the new one is reported
    assert r.exit_code == 1
    # fixing the finding's own word and breaking it again is a new finding
    doc.write_text(doc.read_text().replace("Kenoye's", "Kenoyes'"))
    r = _check("doc/transcript.md", "--scans", "auto", "-f", "compact", "--baseline", f"base.{fmt}")
    assert any("Kenoyes'" in line for line in _errors(r.stdout))


def test_write_baseline_then_a_clean_run(doc):
    r = _check("doc/transcript.md", "--scans", "auto", "-f", "compact", "--write-baseline", "b.json")
    assert r.exit_code == 0 and r.stdout == ""  # everything it wrote counts as accepted
    base = json.loads(Path("b.json").read_text())
    assert base["findings"] and all(len(f["fingerprint"]) == 24 for f in base["findings"])
    r = _check("doc/transcript.md", "--scans", "auto", "-f", "compact", "--baseline", "b.json")
    assert r.exit_code == 0 and r.stdout == ""


def test_a_baseline_counts_repeated_findings(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("t.md").write_text("Prince Konoye and Prince Kenoye met.\n")
    r = _check("t.md", "-f", "json", "-o", "b.json")
    assert r.exit_code == 1
    Path("t.md").write_text("Prince Konoye and Prince Kenoye met.\n\nPrince Konoye and Prince Kenoye met.\n")
    r = _check("t.md", "-f", "compact", "--baseline", "b.json")
    assert len(_errors(r.stdout)) == 1 and r.stdout.startswith("t.md:3:")


def test_bad_baselines_are_one_line_errors(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("t.md").write_text("text\n")
    assert _check("t.md", "--baseline", "missing.json").exit_code == 3
    Path("x.json").write_text("[1, 2]")
    r = _check("t.md", "--baseline", "x.json")
    assert r.exit_code == 4 and "not an ocr-fix JSON report" in r.stderr
    Path("y.json").write_text('{"schema": "ocr-fix/check/1", "findings": [{"kind": "nonword"}]}')
    r = _check("t.md", "--baseline", "y.json")
    assert r.exit_code == 4 and "fingerprint" in r.stderr


_word = st.text(alphabet="abcdefgh", min_size=1, max_size=6)


@given(st.lists(_word, min_size=3, max_size=12), st.lists(_word, max_size=8), st.integers(0, 100))
def test_fingerprint_ignores_text_beyond_its_context(words, extra, pick):
    i = pick % len(words)
    text = " ".join(words) + "\n"
    start = sum(len(w) + 1 for w in words[:i])
    t = Transcript(Path("t.md"), text, "markdown")
    f = Finding(Severity.ERROR, Kind.SUBSTITUTION, t.span(start, start + len(words[i])), None, "x", "m")
    far = " ".join(extra) + "\n\n" if extra else ""
    moved = Transcript(Path("t.md"), far + text + far, "markdown")
    g = Finding(
        Severity.WARNING,
        Kind.SUBSTITUTION,
        moved.span(len(far) + start, len(far) + start + len(words[i])),
        None,
        "x",
        "another message",
    )
    if i >= 3 and i + 3 < len(words):  # context fully inside the text: extra text is beyond it
        assert fingerprint(f, t.text) == fingerprint(g, moved.text)
    assert context(text, start, start + len(words[i]))[0] == " ".join(words[max(0, i - 3) : i])
