"""ocr-fix fix: byte preservation, staleness, overlaps, omission spacing, outputs."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ocr_fix.cli import app
from ocr_fix.errors import ExitCode
from ocr_fix.fix import Candidate, Source, changed_lines, plan, unified_diff
from ocr_fix.model import Kind, Severity

runner = CliRunner()

BOM = b"\xef\xbb\xbf"
RAW = BOM + b"# Report  \r\n\r\nPrince **Kenoye** went to Moskow.  \r\nHe he said: *nothing* ok\r\nEnd"


def _text() -> str:
    return RAW[len(BOM) :].decode()


def finding(
    word: str,
    suggestion: str,
    severity: str = "error",
    kind: str = "substitution",
    nth: int = 0,
    empty: bool = False,
) -> dict:
    """A finding dict as check writes it, located at the nth occurrence of ``word``."""
    text = _text()
    at = -1
    for _ in range(nth + 1):
        at = text.index(word, at + 1)
    end = at if empty else at + len(word)
    line = text.count("\n", 0, at) + 1
    col = at - (text.rfind("\n", 0, at) + 1) + 1
    return {
        "severity": severity,
        "kind": kind,
        "transcript": {
            "line": line,
            "column": col,
            "end_column": col + end - at,
            "text": text[at:end],
            "offset": at,
            "end_offset": end,
        },
        "scan": {
            "page": 1,
            "line": 1,
            "text": suggestion,
            "confidence": 96.0,
            "bbox": None,
            "image": "01.png",
        },
        "suggestion": suggestion,
        "message": "test",
    }


def write_case(tmp_path: Path, findings: list[dict], raw: bytes = RAW) -> tuple[Path, Path]:
    t = tmp_path / "t.md"
    t.write_bytes(raw)
    doc = {
        "schema": "ocr-fix/check/1",
        "transcript": str(t),
        "transcript_sha256": hashlib.sha256(raw).hexdigest(),
        "findings": findings,
    }
    f = tmp_path / "f.json"
    f.write_text(json.dumps(doc), encoding="utf-8")
    return t, f


def test_substitutions_preserve_every_other_byte(tmp_path: Path) -> None:
    t, f = write_case(
        tmp_path,
        [
            finding("Kenoye", "Konoye"),
            finding("Moskow", "Moscow"),
            finding("went", "WENT", severity="warning"),
        ],
    )
    out = tmp_path / "out.md"
    res = runner.invoke(app, ["fix", str(t), "--findings", str(f), "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert out.read_bytes() == RAW.replace(b"Kenoye", b"Konoye").replace(b"Moskow", b"Moscow")
    assert t.read_bytes() == RAW  # -o leaves the transcript alone
    # the diff names both lines and keeps CRLF inside the hunk
    stdout = res.stdout_bytes.decode()  # .stdout folds CRLF
    assert "-Prince **Kenoye** went to Moskow.  \r\n" in stdout
    assert "+Prince **Konoye** went to Moscow.  \r\n" in stdout
    assert res.stdout.startswith(f"--- a/{str(t).lstrip('/')}\n+++ b/")


def test_accept_warning_takes_warnings_too(tmp_path: Path) -> None:
    t, f = write_case(
        tmp_path, [finding("went", "walked", severity="warning"), finding("ok", "OK", severity="info")]
    )
    out = tmp_path / "out.md"
    res = runner.invoke(app, ["fix", str(t), "--findings", str(f), "--accept", "warning", "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert out.read_bytes() == RAW.replace(b"went", b"walked")


def test_dry_run_writes_only_the_diff(tmp_path: Path) -> None:
    t, f = write_case(tmp_path, [finding("Moskow", "Moscow")])
    patch = tmp_path / "p.diff"
    res = runner.invoke(app, ["fix", str(t), "--findings", str(f), "--diff", str(patch)])
    assert res.exit_code == 0, res.output
    assert res.stdout == ""
    assert t.read_bytes() == RAW
    body = patch.read_bytes().decode()
    assert "-Prince **Kenoye** went to Moskow.  \r\n+Prince **Kenoye** went to Moscow.  \r\n" in body
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.json", "p.diff", "t.md"]
    assert "would apply 1 fix(es)" in res.stderr and "dry run" in res.stderr  # not "applied"


def test_writing_says_applied_and_a_sarif_report_says_what_fix_needs(tmp_path: Path) -> None:
    t, f = write_case(tmp_path, [finding("Moskow", "Moscow")])
    res = runner.invoke(app, ["fix", str(t), "--findings", str(f), "-o", str(tmp_path / "out.md")])
    assert res.exit_code == 0 and "ocr-fix: applied 1 fix(es), skipped 0\n" in res.stderr
    sarif = tmp_path / "r.sarif"
    sarif.write_text('{"version": "2.1.0", "runs": []}')
    res = runner.invoke(app, ["fix", str(t), "--findings", str(sarif)])
    assert res.exit_code == ExitCode.BAD_INPUT
    assert "check --format json" in res.stderr and res.stderr.count("\n") == 1


def test_stale_hash_exits_9_and_writes_nothing(tmp_path: Path) -> None:
    t, f = write_case(tmp_path, [finding("Moskow", "Moscow")])
    t.write_bytes(RAW + b"\r\n")
    out = tmp_path / "out.md"
    res = runner.invoke(app, ["fix", str(t), "--findings", str(f), "-o", str(out)])
    assert res.exit_code == ExitCode.STALE == 9
    assert "changed since the findings" in res.output
    assert not out.exists()


@pytest.mark.parametrize(
    "content",
    [
        b"not json {",
        b'{"schema": "other/1", "findings": []}',
        b"[1, 2]",
        b'{"schema": "ocr-fix/check/1", "transcript_sha256": "x", "findings": [{"severity": "bad"}]}',
    ],
)
def test_bad_findings_file_exits_4(tmp_path: Path, content: bytes) -> None:
    t, f = write_case(tmp_path, [])
    f.write_bytes(content)
    res = runner.invoke(app, ["fix", str(t), "--findings", str(f)])
    assert res.exit_code == ExitCode.BAD_INPUT == 4
    assert "Traceback" not in res.output


def test_missing_findings_file_exits_3(tmp_path: Path) -> None:
    t, _ = write_case(tmp_path, [])
    res = runner.invoke(app, ["fix", str(t), "--findings", str(tmp_path / "nope.json")])
    assert res.exit_code == ExitCode.NOT_FOUND


def test_overlap_keeps_higher_severity_and_says_so(tmp_path: Path) -> None:
    low = finding("went to", "walked to", severity="warning")
    high = finding("to Moskow", "to Moscow")
    t, f = write_case(tmp_path, [low, high])
    out = tmp_path / "out.md"
    res = runner.invoke(app, ["fix", str(t), "--findings", str(f), "--accept", "warning", "-o", str(out)])
    assert res.exit_code == 0
    assert out.read_bytes() == RAW.replace(b"Moskow", b"Moscow")
    assert "overlaps" in res.stderr and "went to" in res.stderr


def test_insertion_and_omission_spacing(tmp_path: Path) -> None:
    text = _text()
    ins = finding("He ", "", kind="insertion", nth=0)  # the doubled word plus one space
    assert ins["transcript"]["text"] == "He "
    before = finding("said", "then", kind="omission", empty=True)  # at a word start
    after = finding(" *nothing*", "really", kind="omission", empty=True)  # right after "said:"
    t, f = write_case(tmp_path, [ins, before, after])
    out = tmp_path / "out.md"
    res = runner.invoke(app, ["fix", str(t), "--findings", str(f), "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert (
        out.read_bytes()
        == BOM + text.replace("He he said: *nothing*", "he then said: really *nothing*").encode()
    )


def test_text_that_no_longer_matches_is_skipped(tmp_path: Path) -> None:
    bad = finding("Moskow", "Moscow")
    bad["transcript"]["text"] = "Moscou"
    t, f = write_case(tmp_path, [bad, finding("Kenoye", "Konoye")])
    out = tmp_path / "out.md"
    res = runner.invoke(app, ["fix", str(t), "--findings", str(f), "-o", str(out)])
    assert res.exit_code == 0
    assert out.read_bytes() == RAW.replace(b"Kenoye", b"Konoye")
    assert "does not read 'Moscou'" in res.stderr


def test_unplaced_findings_never_applied(tmp_path: Path) -> None:
    mismatch = {
        "severity": "error",
        "kind": "mismatch",
        "transcript": None,
        "scan": None,
        "suggestion": "",
        "message": "scans are of another document",
    }
    nosug = finding("Moskow", "")
    t, f = write_case(tmp_path, [mismatch, nosug])
    res = runner.invoke(app, ["fix", str(t), "--findings", str(f)])
    assert res.exit_code == 0
    assert res.stdout == ""
    assert "would apply 0" in res.stderr


def test_in_place_keeps_backup(tmp_path: Path) -> None:
    t, f = write_case(tmp_path, [finding("Moskow", "Moscow")])
    t.chmod(0o644)
    res = runner.invoke(app, ["fix", str(t), "--findings", str(f), "--in-place"])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "t.md.bak").read_bytes() == RAW
    assert t.read_bytes() == RAW.replace(b"Moskow", b"Moscow")
    assert t.stat().st_mode & 0o777 == 0o644
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_output_and_in_place_together_is_usage_error(tmp_path: Path) -> None:
    t, f = write_case(tmp_path, [])
    res = runner.invoke(app, ["fix", str(t), "--findings", str(f), "--in-place", "-o", str(tmp_path / "o")])
    assert res.exit_code == ExitCode.USAGE


def test_interactive_accept_skip_edit_quit(tmp_path: Path) -> None:
    t, f = write_case(
        tmp_path,
        [
            finding("Kenoye", "Konoye"),
            finding("Moskow", "Moscow"),
            finding("nothing", "NOTHING"),
            finding("End", "Fin"),
        ],
    )
    out = tmp_path / "out.md"
    res = runner.invoke(
        app, ["fix", str(t), "--findings", str(f), "--interactive", "-o", str(out)], input="a\ns\ne\nNEW\nq\n"
    )
    assert res.exit_code == 0, res.output
    assert out.read_bytes() == RAW.replace(b"Kenoye", b"Konoye").replace(b"*nothing*", b"*NEW*")
    assert "Moskow" in res.stderr and "confidence 96" in res.stderr


def test_plan_core_and_changed_lines() -> None:
    text = "a b c\nd e f\n"
    src = Source(Path("x.txt"), text.encode(), text, False)
    cands = [Candidate(0, Severity.ERROR, Kind.SUBSTITUTION, 8, 9, "e", "E", 2, 3, 2)]
    res = plan(src, cands, Severity.ERROR)
    assert res.text == "a b c\nd E f\n"
    assert changed_lines(text, res.text) == {2}
    assert unified_diff(text, text, "x.txt") == ""
    assert unified_diff("a", "b", "x.txt").endswith("+b\n\\ No newline at end of file\n")
