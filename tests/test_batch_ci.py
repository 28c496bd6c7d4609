"""batch in CI: --fail-on, and one report of every document's findings (--format)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import jsonschema
import pytest

from ocr_fix.cli import app
from tests.fakes import FakeEngine, OcrCliRunner
from tests.test_batch import _texts, make_archive

runner = OcrCliRunner()

SARIF_SCHEMA = json.loads((Path(__file__).parent / "schemas" / "sarif-schema-2.1.0.json").read_text())


@pytest.fixture
def archive(tmp_path, monkeypatch):
    """Good documents only: a (a transcript typo), nested/b, e (clean)."""
    root = tmp_path / "root"
    make_archive(root)
    for broken in ("c", "d", "empty"):
        shutil.rmtree(root / broken)
    runner.engine = FakeEngine(_texts())  # this test's batches OCR with the fake
    monkeypatch.chdir(tmp_path)
    return root


def _batch(root: Path, *args: str):
    return runner.invoke(app, ["batch", str(root), "-o", "out", "--no-cache", "--jobs", "1", "-q", *args])


def test_fail_on_makes_findings_fail_the_job(archive):
    assert _batch(archive).exit_code == 0  # default: only failed documents count
    assert _batch(archive, "--fail-on", "warning").exit_code == 1
    assert _batch(archive, "--fail-on", "error").exit_code == 1
    assert _batch(archive, "--fail-on", "never").exit_code == 0
    clean = archive.parent / "clean"
    shutil.copytree(archive / "e", clean / "e")
    assert _batch(clean, "--fail-on", "info").exit_code == 0


def test_failed_documents_still_exit_8_with_fail_on(archive):
    (archive / "c").mkdir()
    (archive / "c" / "c-01.png").write_bytes(b"\x89PNG\r\n\x1a\n not a png")
    (archive / "c" / "transcript.md").write_text("Some text here.\n")
    assert _batch(archive, "--fail-on", "warning").exit_code == 8


def test_one_sarif_report_for_the_collection_also_after_a_resume(archive):
    r = _batch(archive, "--format", "sarif", "--report", "all.sarif", "--fail-on", "error")
    assert r.exit_code == 1, r.output
    doc = json.loads(Path("all.sarif").read_text())
    jsonschema.Draft4Validator(SARIF_SCHEMA).validate(doc)
    results = doc["runs"][0]["results"]
    uris = {x["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for x in results}
    assert uris == {"root/a/transcript.md"}
    nimitz = [x for x in results if x["properties"]["suggestion"] == "Nimitz"]
    assert nimitz and nimitz[0]["fixes"][0]["artifactChanges"][0]["replacements"][0]["insertedContent"] == {
        "text": "Nimitz"
    }
    # Rerun: every document is resumed from out/, the report is the same.
    r = _batch(archive, "--format", "sarif")
    assert r.exit_code == 0
    assert json.loads(r.stdout)["runs"][0]["results"] == results
    r = _batch(archive, "--format", "compact")
    lines = r.stdout.splitlines()
    assert lines and all(line.startswith("root/a/transcript.md:") for line in lines)
    assert any(": error substitution: " in line and "Nimitz" in line for line in lines)


def test_report_needs_a_format(archive):
    r = _batch(archive, "--report", "x.sarif")
    assert r.exit_code == 2


def test_batch_reads_the_config_found_from_root(archive):
    assert _batch(archive, "--fail-on", "error").exit_code == 1  # a: Nimltz
    (archive / ".ocr-fix.toml").write_text('ignore = ["Nimltz"]\n')
    r = _batch(archive, "--fail-on", "error", "--format", "compact")
    assert r.exit_code == 0, r.stdout  # the accepted spelling is never flagged, the key changed
    assert "Nimltz" not in r.stdout
    (archive / ".ocr-fix.toml").write_text('editorial-marks = ["re:(["]\n')
    r = _batch(archive)
    assert r.exit_code == 2 and "not a regular expression" in r.stderr


def test_the_config_files_fail_on_and_show_apply_to_batch(archive):
    assert _batch(archive).exit_code == 0  # batch's own default: only failed documents
    (archive / ".ocr-fix.toml").write_text('fail-on = "error"\nshow = "error"\n')
    assert _batch(archive).exit_code == 1  # a: Nimltz, an error
    assert _batch(archive, "--fail-on", "never").exit_code == 0  # the command line wins
    r = _batch(archive, "--format", "compact")  # show = "error" lists the error
    assert "Nimltz" in r.stdout, r.stdout
    (archive / ".ocr-fix.toml").write_text('show = "nonsense"\n')
    assert _batch(archive, "--format", "compact").exit_code == 2  # the config's show is read


def test_a_baseline_lets_an_old_collection_pass_and_fails_on_new_findings(archive):
    r = _batch(archive, "--fail-on", "error", "--write-baseline", "base.json")
    assert r.exit_code == 0, r.output  # everything there now is accepted
    assert json.loads(Path("base.json").read_text())["schema"] == "ocr-fix/checks/1"
    r = _batch(archive, "--fail-on", "error", "--baseline", "base.json", "--format", "compact")
    assert r.exit_code == 0 and r.stdout == ""
    # a new error in another document of the collection
    e = archive / "e" / "transcript.md"
    e.write_text(e.read_text().replace("reconnaissance", "reconaissance"))
    r = _batch(archive, "--fail-on", "error", "--baseline", "base.json", "--format", "compact")
    assert r.exit_code == 1, r.output
    lines = r.stdout.splitlines()
    assert lines and all(line.startswith("root/e/transcript.md:") for line in lines)
