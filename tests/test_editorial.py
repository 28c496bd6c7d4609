"""Editorial marks ([illegible], [sic], [?], […], [redacted], runs of █, X or ~) are never flagged."""

from __future__ import annotations

import itertools
import json
import shutil
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ocr_fix.cli import app
from ocr_fix.editorial import DEFAULT_EDITORIAL_MARKS, compile_marks, drop_marked
from ocr_fix.errors import UsageError
from ocr_fix.model import Finding, Kind, Severity
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


MARKS = compile_marks(DEFAULT_EDITORIAL_MARKS)


@pytest.mark.parametrize(
    "text,marked",
    [
        ("a [illegible] b", ["[illegible]"]),
        ("a [Illegible] b [SIC] c", ["[Illegible]", "[SIC]"]),
        ("a [?] b […] c [...] d [redacted]", ["[?]", "[…]", "[...]", "[redacted]"]),
        ("the ███ file and █", ["███", "█"]),
        ("serial XXXXX, name xxx.", ["XXXXX", "xxx"]),
        ("Chapter XX and XXL", []),  # a Roman numeral, a word
        ("Caf~~ and d'~~~gadir", ["~~", "~~~"]),  # UNLV's unknown character, tapuscorpus' hand
        ("[illegible word] is not a declared mark", []),
    ],
)
def test_default_marks(text, marked):
    assert [text[a:b] for a, b in MARKS.spans(text)] == marked


def _finding(t: Transcript, start: int, end: int, kind=Kind.SUBSTITUTION) -> Finding:
    return Finding(Severity.ERROR, kind, t.span(start, end), None, "x", "m")


def test_findings_on_or_beside_a_mark_are_dropped_others_kept():
    text = "Prince [illegible] met Kenoye [sic] and Tojo.\n"
    t = Transcript(Path("t.md"), text, "markdown")
    at = text.index
    on_mark = _finding(t, at("[illegible]"), at("[illegible]") + 11)
    beside = _finding(t, at(" met"), at(" met"), Kind.OMISSION)  # scan words missing beside it
    sic_word = _finding(t, at("Kenoye"), at("Kenoye") + 6, Kind.NONWORD)
    sic_word_scan = _finding(t, at("Kenoye"), at("Kenoye") + 6)  # the scan disagrees: still a finding
    other = _finding(t, at("Tojo"), at("Tojo") + 4)
    kept = drop_marked([on_mark, beside, sic_word, sic_word_scan, other], text, MARKS)
    assert kept == [sic_word_scan, other]
    assert drop_marked([on_mark], text, compile_marks(())) == [on_mark]  # no marks declared


def test_a_bad_mark_pattern_is_a_usage_error():
    with pytest.raises(UsageError, match="not a regular expression"):
        compile_marks(("re:([",))


@given(st.text(alphabet="ab [illegible]█X.\n", max_size=40))
def test_marks_never_overlap_and_lie_in_the_text(text):
    spans = MARKS.spans(text)
    assert all(0 <= a < b <= len(text) for a, b in spans)
    assert all(b1 <= a2 for (_, b1), (a2, _) in itertools.pairwise(spans))


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


def _findings(*args: str) -> list[dict]:
    r = runner.invoke(
        app, ["check", "doc/transcript.md", "--scans", "auto", "-l", str(LEXICON), "-f", "json", "-q", *args]
    )
    assert r.exit_code in (0, 1), r.output
    return json.loads(r.stdout)["findings"]


def test_marks_against_real_scan_text_are_not_flagged(doc):
    text = doc.read_text()
    # The transcriber could not read a name, and a word was withheld.
    doc.write_text(text.replace("Kenoye's", "[illegible]").replace("Imperial Will", "Imperial ████", 1))
    found = _findings("--show", "info")
    assert not [f for f in found if f["transcript"] and ("[illegible]" in f["transcript"]["text"])]
    assert not [f for f in found if f["transcript"] and "█" in f["transcript"]["text"]]
    marked_lines = {3}
    assert not [
        f
        for f in found
        if f["severity"] != "info" and f["transcript"] and f["transcript"]["line"] in marked_lines
    ], found
    # Without marks declared, the same transcript is flagged there.
    Path(".ocr-fix.toml").write_text("editorial-marks = []\n")
    flagged = _findings()
    assert any(f["transcript"] and f["transcript"]["text"] == "[illegible]" for f in flagged), flagged


def test_sic_vouches_for_the_word_in_lexicon_only_mode(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("t.md").write_text("Prince Konoye met Prince Kenoye [sic] in July.\n")
    r = runner.invoke(app, ["check", "t.md", "-l", str(LEXICON), "-f", "compact", "-q"])
    assert r.exit_code == 0 and r.stdout == "", r.stdout
    Path("t.md").write_text("Prince Konoye met Prince Kenoye in July.\n")
    r = runner.invoke(app, ["check", "t.md", "-l", str(LEXICON), "-f", "compact", "-q"])
    assert r.exit_code == 1 and "Kenoye" in r.stdout
