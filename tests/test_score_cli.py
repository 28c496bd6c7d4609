"""``ocr-fix score``: output formats, unpaired pages, exit codes, no partial output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ocr_fix.cli import app
from ocr_fix.metrics import score_pair, summarise

runner = CliRunner()

PAGES = {
    "01": ("The quick brown fox jumps over the lazy dog.", "Tbe quick brown fox jumps ovcr the lazy dog."),
    "02": ("Secret telegram\nfrom Tokyo to Moscow.", "Secret telcgram from Tokyo to Moscow"),
    "10": ("Please make the above representations.", "Please make the above representations."),
}


@pytest.fixture
def dirs(tmp_path: Path) -> tuple[Path, Path]:
    gt, ocr = tmp_path / "gt", tmp_path / "ocr"
    gt.mkdir(), ocr.mkdir()
    for name, (truth, text) in PAGES.items():
        (gt / f"{name}.gt.txt").write_text(truth, encoding="utf-8")
        (ocr / f"{name}.txt").write_text(text, encoding="utf-8")
    return gt, ocr


def _one_line_error(result, code: int, *fragments: str) -> None:  # type: ignore[no-untyped-def]
    assert result.exit_code == code, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ocr-fix: ")
    for fragment in fragments:
        assert fragment in lines[0]
    assert result.stdout == ""
    assert "Traceback" not in result.output


def test_table_output(dirs: tuple[Path, Path]) -> None:
    result = runner.invoke(app, ["score", str(dirs[0]), str(dirs[1])])
    assert result.exit_code == 0, result.output
    out = result.stdout
    for needle in ("01", "02", "10", "micro", "macro", "CER", "WER", "e -> c  2", "h -> b  1"):
        assert needle in out
    assert result.stderr == ""


def test_json_output_matches_the_library(dirs: tuple[Path, Path]) -> None:
    result = runner.invoke(
        app, ["score", str(dirs[0]), str(dirs[1]), "--format", "json", "--confusions", "2"]
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    scores = [score_pair(gt, ocr, name) for name, (gt, ocr) in PAGES.items()]
    summary = summarise(scores)
    assert doc["schema"] == "ocr-fix/score/1"
    assert [p["page"] for p in doc["pages"]] == ["01", "02", "10"]
    first = doc["pages"][0]
    assert first["gt"] == str(dirs[0] / "01.gt.txt") and first["ocr"] == str(dirs[1] / "01.txt")
    assert first["cer"] == pytest.approx(2 / 44)
    assert first["chars"] == {"substitutions": 2, "insertions": 0, "deletions": 0, "hits": 42, "length": 44}
    assert doc["pages"][2]["cer"] == 0.0
    assert doc["summary"]["cer"] == pytest.approx(summary.cer)
    assert doc["summary"]["wer"] == pytest.approx(summary.wer)
    assert doc["summary"]["cer_macro"] == pytest.approx(summary.cer_macro)
    assert doc["summary"]["pages"] == 3
    assert doc["summary"]["chars"]["length"] == summary.chars.reference_length
    assert doc["confusions"] == [{"gt": "e", "ocr": "c", "count": 2}, {"gt": ".", "ocr": "", "count": 1}]
    assert doc["unpaired"] == []


def test_unpaired_pages_are_reported_not_dropped(dirs: tuple[Path, Path]) -> None:
    (dirs[0] / "11.gt.txt").write_text("lonely truth", encoding="utf-8")
    (dirs[1] / "12.txt").write_text("lonely ocr", encoding="utf-8")
    result = runner.invoke(app, ["score", str(dirs[0]), str(dirs[1]), "-f", "json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["unpaired"] == [
        {"page": "11", "side": "gt", "path": str(dirs[0] / "11.gt.txt")},
        {"page": "12", "side": "ocr", "path": str(dirs[1] / "12.txt")},
    ]
    assert doc["summary"]["pages"] == 3
    warnings = result.stderr.strip().splitlines()
    assert len(warnings) == 2 and all("warning" in w for w in warnings)
    assert "page 11" in warnings[0] and "page 12" in warnings[1]


def test_json_to_file_is_written_whole(dirs: tuple[Path, Path], tmp_path: Path) -> None:
    out = tmp_path / "score.json"
    result = runner.invoke(app, ["score", str(dirs[0]), str(dirs[1]), "-f", "json", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert json.loads(out.read_text(encoding="utf-8"))["summary"]["pages"] == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["gt", "ocr", "score.json"]


def test_table_to_file_has_no_colour_codes(dirs: tuple[Path, Path], tmp_path: Path) -> None:
    out = tmp_path / "score.txt"
    result = runner.invoke(app, ["score", str(dirs[0]), str(dirs[1]), "-o", str(out)])
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    assert "micro" in text and "\x1b[" not in text


def test_empty_reference_rate_is_null_in_json(tmp_path: Path) -> None:
    gt, ocr = tmp_path / "a.gt.txt", tmp_path / "a.txt"
    gt.write_text("\n", encoding="utf-8")
    ocr.write_text("noise", encoding="utf-8")
    result = runner.invoke(app, ["score", str(gt), str(ocr), "-f", "json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["pages"][0]["cer"] is None and doc["summary"]["cer"] is None
    assert doc["pages"][0]["chars"]["insertions"] == 5


def test_missing_path_exits_3(dirs: tuple[Path, Path], tmp_path: Path) -> None:
    result = runner.invoke(app, ["score", str(tmp_path / "nope"), str(dirs[1])])
    _one_line_error(result, 3, "nope", "no such file")


def test_non_utf8_exits_4_without_touching_the_output(dirs: tuple[Path, Path], tmp_path: Path) -> None:
    (dirs[1] / "02.txt").write_bytes("Secret t\u00e9legram".encode("latin-1"))
    out = tmp_path / "score.json"
    out.write_text("previous good report", encoding="utf-8")
    result = runner.invoke(app, ["score", str(dirs[0]), str(dirs[1]), "-f", "json", "-o", str(out)])
    _one_line_error(result, 4, "02.txt", "not UTF-8", "line 1, column 9", "line 1")
    assert out.read_text(encoding="utf-8") == "previous good report"
    fresh = tmp_path / "fresh.json"
    result = runner.invoke(app, ["score", str(dirs[0]), str(dirs[1]), "-o", str(fresh)])
    assert result.exit_code == 4
    assert sorted(p.name for p in tmp_path.iterdir()) == ["gt", "ocr", "score.json"]


def test_binary_file_exits_4(dirs: tuple[Path, Path]) -> None:
    (dirs[1] / "10.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    result = runner.invoke(app, ["score", str(dirs[0]), str(dirs[1])])
    _one_line_error(result, 4, "10.txt", "NUL byte")


def test_empty_directory_exits_4(dirs: tuple[Path, Path], tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    result = runner.invoke(app, ["score", str(dirs[0]), str(empty)])
    _one_line_error(result, 4, "empty", "no page files")


def test_file_against_directory_exits_4(dirs: tuple[Path, Path]) -> None:
    result = runner.invoke(app, ["score", str(dirs[0] / "01.gt.txt"), str(dirs[1])])
    _one_line_error(result, 4, "both be files or both be directories")


def test_negative_confusions_is_a_usage_error(dirs: tuple[Path, Path]) -> None:
    result = runner.invoke(app, ["score", str(dirs[0]), str(dirs[1]), "--confusions", "-1"])
    assert result.exit_code == 2
