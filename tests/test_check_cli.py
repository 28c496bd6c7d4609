"""`ocr-fix check` through the CLI: formats, schema, exit codes, bad inputs."""

from __future__ import annotations

import json
import shutil

import pytest

from ocr_fix.cli import app
from tests.conftest import REALDATA, ROOT
from tests.fakes import FakeEngine, OcrCliRunner

GOLDEN = ROOT / "golden" / "psis-400-23"
SCANS = ROOT / "scans" / "psis-400-23"
LEXICON = ROOT / "lexicons" / "psis-400-23.txt"
runner = OcrCliRunner()


@pytest.fixture(autouse=True)
def _real_engine_unless_a_fixture_sets_one():
    runner.engine = None


@pytest.fixture
def fake_scans(tmp_path, monkeypatch):
    """Two pages (02, 03) as PNG files whose 'OCR' is their ground truth."""
    d = tmp_path / "scans"
    d.mkdir()
    texts = {}
    for n in ("02", "03"):
        shutil.copy(SCANS / f"{n}.png", d / f"{n}.png")
        texts[f"{n}.png"] = (GOLDEN / f"{n}.gt.txt").read_text()
    engine = FakeEngine(texts)
    runner.engine = engine  # this test's commands OCR with the fake
    transcript = tmp_path / "t.md"
    lines = (SCANS / "transcript.md").read_text().split("\n")
    transcript.write_text("\n".join(lines[37:60]) + "\n")  # the text of pages 2 and 3
    return transcript, d


def _check(*args: str):
    return runner.invoke(app, ["check", *args, "--jobs", "1", "--no-cache", "--quiet"])


def test_json_schema_and_positions(fake_scans):
    transcript, scans = fake_scans
    r = _check(str(transcript), str(scans), "-l", str(LEXICON), "-f", "json")
    assert r.exit_code == 1, r.output
    doc = json.loads(r.stdout)
    assert doc["schema"] == "ocr-fix/check/1"
    assert set(doc) >= {"transcript", "scans", "pages", "findings", "summary", "transcript_sha256"}
    assert [p["page"] for p in doc["pages"]] == [1, 2]
    assert all(set(p) >= {"page", "image", "cer", "mean_confidence"} for p in doc["pages"])
    konoye = [f for f in doc["findings"] if f["suggestion"] == "Konoye" and f["severity"] == "error"]
    assert konoye, doc["findings"]
    f = konoye[0]
    assert set(f) >= {"severity", "kind", "transcript", "scan", "suggestion", "message"}
    assert set(f["transcript"]) >= {"line", "column", "end_column", "text"}
    assert set(f["scan"]) >= {"page", "line", "text", "confidence", "bbox"}
    text = transcript.read_text().split("\n")[f["transcript"]["line"] - 1]
    assert text[f["transcript"]["column"] - 1 : f["transcript"]["end_column"] - 1] == f["transcript"]["text"]
    assert doc["summary"]["error"] == sum(1 for x in doc["findings"] if x["severity"] == "error")


def test_fail_on_never_exits_zero_and_github_format(fake_scans):
    transcript, scans = fake_scans
    r = _check(str(transcript), str(scans), "-l", str(LEXICON), "-f", "github", "--fail-on", "never")
    assert r.exit_code == 0
    lines = r.stdout.strip().splitlines()
    assert lines and all(line.startswith(("::error ", "::warning ", "::notice ")) for line in lines)
    assert any(f"file={transcript}" in line and ",line=" in line and ",col=" in line for line in lines)


def test_table_output_to_file(fake_scans, tmp_path):
    transcript, scans = fake_scans
    out = tmp_path / "report.txt"
    r = _check(str(transcript), str(scans), "-l", str(LEXICON), "-o", str(out))
    assert r.exit_code == 1
    text = out.read_text()
    assert "Konoye" in text and "error" in text


def test_clean_transcript_exits_zero(tmp_path):
    t = tmp_path / "t.md"
    t.write_text("The Ambassador reported to Tokyo.\n")
    r = _check(str(t), "-l", str(LEXICON))
    assert r.exit_code == 0, r.output


@pytest.mark.parametrize(
    "content,code,needle",
    [
        (None, 3, "no such file"),
        (b"", 4, "empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00binary", 4, "binary"),
        (b"caf\xe9 au lait\n", 4, "UTF-8"),
    ],
)
def test_bad_transcripts_give_one_line_and_their_code(tmp_path, content, code, needle):
    t = tmp_path / "t.md"
    if content is not None:
        t.write_bytes(content)
    r = _check(str(t))
    assert r.exit_code == code
    err = r.stderr.strip()
    assert len(err.splitlines()) == 1 and needle.lower() in err.lower() and "Traceback" not in r.output


def test_bad_lexicon_regex_names_the_line(tmp_path):
    t = tmp_path / "t.md"
    t.write_text("text\n")
    lex = tmp_path / "lex.txt"
    lex.write_text("Konoye\n# fine\nre:H-(\\d{6}\n")
    r = _check(str(t), "-l", str(lex))
    assert r.exit_code == 5 and "line 3" in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_missing_scan_directory(tmp_path):
    t = tmp_path / "t.md"
    t.write_text("text\n")
    r = _check(str(t), str(tmp_path / "nope"))
    assert r.exit_code == 3 and "nope" in r.stderr


def test_empty_scan_directory(tmp_path):
    t = tmp_path / "t.md"
    t.write_text("text\n")
    (tmp_path / "empty").mkdir()
    r = _check(str(t), str(tmp_path / "empty"))
    assert r.exit_code == 4


@pytest.mark.tesseract
@pytest.mark.slow
def test_end_to_end_with_real_tesseract_on_two_bundled_pages(tmp_path):
    if shutil.which("tesseract") is None:
        pytest.skip("tesseract not installed")
    scans = tmp_path / "scans"
    scans.mkdir()
    for n in ("02", "03"):
        shutil.copy(SCANS / f"{n}.png", scans / f"{n}.png")
    transcript = tmp_path / "t.md"
    lines = (SCANS / "transcript.md").read_text().split("\n")
    transcript.write_text("\n".join(lines[37:60]) + "\n")
    r = runner.invoke(
        app,
        [
            "check",
            str(transcript),
            str(scans),
            "-l",
            str(LEXICON),
            "-f",
            "json",
            "--cache-dir",
            str(tmp_path / "cache"),
            "--quiet",
        ],
    )
    assert r.exit_code == 1, r.output
    doc = json.loads(r.stdout)
    errors = {
        (f["transcript"]["text"], f["suggestion"], f["scan"]["page"])
        for f in doc["findings"]
        if f["severity"] in ("error", "warning")
    }
    assert ("Loshvsky", "Lozovsky", 1) in errors
    assert any(s == "Konoye" for _, s, _ in errors)
    assert doc["pages"][0]["cer"] < 0.08  # page 3 is only partly in this transcript excerpt


@pytest.mark.tesseract
@pytest.mark.slow
def test_a_two_column_page_is_read_again_with_layout_analysis(tmp_path):
    page = REALDATA / "tesseract_test" / "8087_054.3B.tif"
    if not page.exists() or shutil.which("tesseract") is None:
        pytest.skip("realdata or tesseract absent")
    from ocr_fix.pipeline import OcrRun, check

    result = check(page.with_suffix(".txt"), [page], run=OcrRun(cache_dir=tmp_path / "cache"))
    # Single-column mode runs the columns' lines together (about 20 % agreement).
    assert result.agreement is not None and result.agreement > 0.9
    assert sum(1 for f in result.findings if f.severity.rank >= 2) <= 3
