"""CI output formats (SARIF, rdjsonl, compact, github) and many transcripts per call."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import jsonschema
import pytest

from ocr_fix.cli import app
from ocr_fix.model import Finding, Kind, ScanSpan, Severity
from ocr_fix.pipeline import CheckResult
from ocr_fix.report.formats import FORMATS, RenderOptions, get_format
from ocr_fix.report.github import PER_LEVEL
from ocr_fix.transcript import Transcript
from tests.conftest import ROOT
from tests.fakes import FakeEngine, OcrCliRunner

GOLDEN = ROOT / "golden" / "psis-400-23"
SCANS = ROOT / "scans" / "psis-400-23"
LEXICON = ROOT / "lexicons" / "psis-400-23.txt"
SARIF_SCHEMA = json.loads((Path(__file__).parent / "schemas" / "sarif-schema-2.1.0.json").read_text())
runner = OcrCliRunner()


@pytest.fixture(autouse=True)
def _real_engine_unless_a_fixture_sets_one():
    runner.engine = None


def _lines() -> list[str]:
    return (SCANS / "transcript.md").read_text().split("\n")


@pytest.fixture
def two_docs(tmp_path, monkeypatch):
    """Two documents in their own folders, each with its own page: a/02.png, b/03.png."""
    texts = {}
    docs = []
    for name, page, lo, hi in (("a", "02", 37, 52), ("b", "03", 52, 60)):
        d = tmp_path / name
        d.mkdir()
        shutil.copy(SCANS / f"{page}.png", d / f"{page}.png")
        texts[f"{page}.png"] = (GOLDEN / f"{page}.gt.txt").read_text()
        t = d / "transcript.md"
        t.write_text("\n".join(_lines()[lo:hi]) + "\n")
        docs.append(t)
    engine = FakeEngine(texts)
    runner.engine = engine  # this test's commands OCR with the fake
    monkeypatch.chdir(tmp_path)
    return docs


def _check(*args: str):
    return runner.invoke(app, ["check", *args, "--jobs", "1", "--no-cache", "--quiet"])


def _result(text: str, findings: list[Finding], name: str = "t.md") -> CheckResult:
    return CheckResult(Transcript(Path(name), text, "markdown"), (), (), tuple(findings), None)


def _sub(t: Transcript, word: str, suggestion: str, severity=Severity.ERROR, nth: int = 0) -> Finding:
    start = -1
    for _ in range(nth + 1):
        start = t.text.index(word, start + 1)
    span = t.span(start, start + len(word))
    return Finding(
        severity,
        Kind.SUBSTITUTION,
        span,
        ScanSpan(1, span.line, suggestion, 91.0, None, "01.png"),
        suggestion,
        f"transcript {word!r}, scan {suggestion!r}",
    )


def test_every_format_is_registered_and_named():
    assert set(FORMATS) >= {"table", "json", "github", "html", "sarif", "rdjsonl", "compact"}
    assert all(get_format(name).name == name for name in FORMATS)


def test_sarif_is_valid_with_regions_rules_levels_and_fixes(two_docs):
    _, b = two_docs
    r = _check(str(b), "--scans", "auto", "-l", str(LEXICON), "-f", "sarif", "--show", "info")
    assert r.exit_code == 1, r.output
    doc = json.loads(r.stdout)
    jsonschema.Draft4Validator(SARIF_SCHEMA).validate(doc)
    run = doc["runs"][0]
    as_json = json.loads(_check(str(b), "--scans", "auto", "-l", str(LEXICON), "-f", "json").stdout)
    assert len(run["results"]) == len(as_json["findings"])  # one result per finding
    rule_ids = [rule["id"] for rule in run["tool"]["driver"]["rules"]]
    for res, f in zip(run["results"], as_json["findings"], strict=True):
        assert res["ruleId"] == f["kind"] and rule_ids[res["ruleIndex"]] == f["kind"]
        assert res["level"] == {"error": "error", "warning": "warning", "info": "note"}[f["severity"]]
        region = res["locations"][0]["physicalLocation"]["region"]
        assert (region["startLine"], region["startColumn"], region["endColumn"]) == (
            f["transcript"]["line"],
            f["transcript"]["column"],
            f["transcript"]["end_column"],
        )
        assert res["partialFingerprints"]
    konoye = [
        x for x in run["results"] if x.get("fixes") and x["properties"]["suggestion"].startswith("Konoye")
    ]
    assert konoye
    fix = konoye[0]["fixes"][0]["artifactChanges"][0]
    assert fix["artifactLocation"]["uri"] == "b/transcript.md"
    rep = fix["replacements"][0]
    line = b.read_text().split("\n")[rep["deletedRegion"]["startLine"] - 1]
    span = line[rep["deletedRegion"]["startColumn"] - 1 : rep["deletedRegion"]["endColumn"] - 1]
    assert span == "Kenoye's" and rep["insertedContent"]["text"] == "Konoye's"


def test_sarif_span_across_lines_has_end_line_and_omission_is_an_insertion():
    text = "one two\nthree four five\n"
    t = Transcript(Path("t.md"), text, "markdown")
    across = Finding(Severity.WARNING, Kind.SUBSTITUTION, t.span(4, 13), None, "too tree", "m")
    omission = Finding(Severity.ERROR, Kind.OMISSION, t.span(14, 14), None, "and", "missing word")
    doc = json.loads(get_format("sarif").render([_result(text, [across, omission])], RenderOptions()))
    jsonschema.Draft4Validator(SARIF_SCHEMA).validate(doc)
    first, second = doc["runs"][0]["results"]
    region = first["locations"][0]["physicalLocation"]["region"]
    assert (region["startLine"], region["startColumn"], region["endLine"], region["endColumn"]) == (
        1,
        5,
        2,
        6,
    )
    deleted = second["fixes"][0]["artifactChanges"][0]["replacements"][0]
    assert deleted["deletedRegion"]["startColumn"] == deleted["deletedRegion"]["endColumn"] == 7
    assert deleted["insertedContent"]["text"] == "and "  # the space fix would add too


def test_rdjsonl_lines_with_utf8_byte_columns_and_suggestions():
    text = "Ăpa Kenoye spoke\n"
    t = Transcript(Path("t.md"), text, "markdown")
    out = get_format("rdjsonl").render([_result(text, [_sub(t, "Kenoye", "Konoye")])], RenderOptions())
    lines = out.splitlines()
    assert len(lines) == 1
    d = json.loads(lines[0])
    assert d["severity"] == "ERROR" and d["code"] == {"value": "substitution"}
    assert d["source"]["name"] == "ocr-fix" and isinstance(d["message"], str)
    rng = d["location"]["range"]
    # "Ăpa " is 4 characters and 5 UTF-8 bytes: the word starts at byte column 6.
    assert rng == {"start": {"line": 1, "column": 6}, "end": {"line": 1, "column": 12}}
    assert d["location"]["path"] == "t.md"
    assert d["suggestions"] == [{"range": rng, "text": "Konoye"}]
    raw = text.encode()
    assert raw[rng["start"]["column"] - 1 : rng["end"]["column"] - 1] == b"Kenoye"


def test_compact_is_one_greppable_line_per_finding():
    text = "Kenoye met Tojo\nand Kenoye\n"
    t = Transcript(Path("t.md"), text, "markdown")
    findings = [
        _sub(t, "Kenoye", "Konoye"),
        _sub(t, "Tojo", "Togo", Severity.WARNING),
        _sub(t, "Kenoye", "Konoye", Severity.INFO, nth=1),
    ]
    out = get_format("compact").render([_result(text, findings)], RenderOptions(show=Severity.INFO))
    lines = out.splitlines()
    assert len(lines) == 3
    pattern = re.compile(r"^(?P<file>[^:]+):(?P<line>\d+):(?P<col>\d+): (error|warning|info) [a-z-]+: .+$")
    assert all(pattern.match(line) for line in lines)
    assert lines[0].startswith("t.md:1:1: error substitution: ")
    assert lines[1].startswith("t.md:1:12: warning substitution: ")
    assert lines[2].startswith("t.md:2:5: info ")
    # --show warning (the default) leaves info out
    assert len(get_format("compact").render([_result(text, findings)], RenderOptions()).splitlines()) == 2


def test_github_honours_show_puts_errors_first_and_summarises_past_the_limit():
    words = [f"w{i}" for i in range(30)]
    text = " ".join(words) + "\n"
    t = Transcript(Path("t.md"), text, "markdown")
    findings = [_sub(t, w, w.upper(), Severity.WARNING) for w in words[:3]]
    findings += [_sub(t, w, w.upper(), Severity.ERROR) for w in words[3 : 3 + PER_LEVEL + 5]]
    findings += [_sub(t, w, w.upper(), Severity.INFO) for w in words[20:22]]
    result = _result(text, findings)
    lines = get_format("github").render([result], RenderOptions()).splitlines()
    levels = [line.split(" ", 1)[0] for line in lines]
    assert levels == ["::error"] * PER_LEVEL + ["::warning"] * 3  # no notices below --show
    summary = lines[PER_LEVEL - 1]
    assert "6 more errors" in summary and summary.count("%0A") == 6
    assert all("file=t.md,line=1,col=" in line for line in lines[: PER_LEVEL - 1])
    with_info = get_format("github").render([result], RenderOptions(show=Severity.INFO)).splitlines()
    assert [line.split(" ", 1)[0] for line in with_info][-2:] == ["::notice", "::notice"]


def test_two_transcripts_in_one_call_each_with_its_own_scans(two_docs):
    r = _check("a/transcript.md", "b/transcript.md", "--scans", "auto", "-l", str(LEXICON), "-f", "json")
    assert r.exit_code == 1, r.output  # one exit code: b has the Konoye error
    doc = json.loads(r.stdout)
    assert doc["schema"] == "ocr-fix/checks/1"
    assert [x["transcript"] for x in doc["results"]] == ["a/transcript.md", "b/transcript.md"]
    assert [x["scans"] for x in doc["results"]] == [["a/02.png"], ["b/03.png"]]
    assert all(x["mode"] == "scans" for x in doc["results"])
    assert not any(f["kind"] == "mismatch" for x in doc["results"] for f in x["findings"])
    assert doc["summary"]["error"] == sum(x["summary"]["error"] for x in doc["results"])
    for x, folder in zip(doc["results"], ("a/", "b/"), strict=True):
        assert all(f["scan"]["image"].startswith(folder) for f in x["findings"] if f["scan"])
    assert any(f["transcript"]["text"] == "Kenoye's" for f in doc["results"][1]["findings"])
    # compact names each finding's own file
    r = _check("a/transcript.md", "b/transcript.md", "--scans", "auto", "-l", str(LEXICON), "-f", "compact")
    assert any(line.startswith("b/transcript.md:3:16: error") for line in r.stdout.splitlines())
    assert any(line.startswith("a/transcript.md:") for line in r.stdout.splitlines())
    # one exit code for the call: a clean transcript alone passes, beside b it does not
    Path("clean.md").write_text("The Ambassador reported to Tokyo.\n")
    assert _check("clean.md", "--scans", "auto", "-l", str(LEXICON)).exit_code == 0
    assert _check("clean.md", "b/transcript.md", "--scans", "auto", "-l", str(LEXICON)).exit_code == 1


def test_scans_dir_mirrors_the_transcripts_folders(two_docs, tmp_path):
    store = tmp_path / "store"
    for doc in ("a", "b"):
        (store / doc).mkdir(parents=True)
        for png in (tmp_path / doc).glob("*.png"):
            shutil.move(png, store / doc / png.name)
    r = _check("a/transcript.md", "b/transcript.md", "--scans", "store", "-l", str(LEXICON), "-f", "json")
    doc = json.loads(r.stdout)
    assert [x["scans"] for x in doc["results"]] == [["store/a/02.png"], ["store/b/03.png"]]
    # without --scans: lexicon-only
    r = _check("a/transcript.md", "b/transcript.md", "-l", str(LEXICON), "-f", "json")
    assert [x["mode"] for x in json.loads(r.stdout)["results"]] == ["lexicon-only", "lexicon-only"]


def test_positional_arguments_are_told_apart_by_file_type(two_docs):
    # the classic form: one transcript, then its scans (files or a folder)
    r = _check("b/transcript.md", "b/03.png", "-l", str(LEXICON), "-f", "json")
    assert r.exit_code == 1 and json.loads(r.stdout)["scans"] == ["b/03.png"]
    r = _check("b/transcript.md", "b", "-l", str(LEXICON), "-f", "json")
    assert json.loads(r.stdout)["mode"] == "scans"
    # a scan before its transcript is still a scan
    r = _check("b/03.png", "b/transcript.md", "-l", str(LEXICON), "-f", "json")
    assert json.loads(r.stdout)["transcript"] == "b/transcript.md"
    # scans on the command line with two transcripts are ambiguous: usage error
    r = _check("a/transcript.md", "b/transcript.md", "b/03.png")
    assert r.exit_code == 2 and "single transcript" in r.stderr
    r = _check("b/03.png")
    assert r.exit_code == 2 and "no transcript" in r.stderr
    r = _check("a/transcript.md", "b/transcript.md", "-f", "html")
    assert r.exit_code == 2 and "one transcript" in r.stderr
    # a missing second transcript fails before any OCR, with its own code
    r = _check("a/transcript.md", "nope.md", "--scans", "auto")
    assert r.exit_code == 3 and "nope.md" in r.stderr


def test_compact_and_github_show_control_characters_as_escapes():
    text = "a Ke\x1b[31mnoye b\n"
    t = Transcript(Path("t.md"), text, "markdown")
    f = _sub(t, "Ke\x1b[31mnoye", "Konoye")
    for name in ("compact", "github"):
        out = get_format(name).render([_result(text, [f])], RenderOptions())
        assert "\x1b" not in out and "\\x1b" in out


def test_xml_transcripts_are_located_in_the_xml_file_without_fixes():
    from ocr_fix.transcript import read_transcript

    path = ROOT / "tests" / "data" / "formats" / "letter.alto.xml"
    t = read_transcript(path)
    i = t.text.index("Kenoye")
    span = t.span(i, i + len("Kenoye"))
    f = Finding(Severity.ERROR, Kind.SUBSTITUTION, span, None, "Konoye", "m")
    r = CheckResult(t, (), (), (f,), None)
    doc = json.loads(get_format("sarif").render([r], RenderOptions()))
    jsonschema.Draft4Validator(SARIF_SCHEMA).validate(doc)
    res = doc["runs"][0]["results"][0]
    region = res["locations"][0]["physicalLocation"]["region"]
    file_line = path.read_text().splitlines()[region["startLine"] - 1]
    assert file_line[region["startColumn"] - 1 : region["endColumn"] - 1] == "Kenoye"
    assert "fixes" not in res and res["properties"]["element"] == span.element
    d = json.loads(get_format("rdjsonl").render([r], RenderOptions()))
    rng = d["location"]["range"]
    raw_line = path.read_bytes().splitlines()[rng["start"]["line"] - 1]
    assert raw_line[rng["start"]["column"] - 1 : rng["end"]["column"] - 1] == b"Kenoye"
    assert "suggestions" not in d


def test_fix_takes_its_transcript_out_of_a_report_of_several(two_docs):
    r = _check("a/transcript.md", "b/transcript.md", "--scans", "auto", "-l", str(LEXICON), "-f", "json")
    Path("all.json").write_text(r.stdout)
    r = runner.invoke(
        app, ["fix", "b/transcript.md", "--findings", "all.json", "--accept", "error", "-o", "fixed.md"]
    )
    assert r.exit_code == 0, r.output
    assert "Konoye's mission" in Path("fixed.md").read_text()
    assert "Kenoye's" not in Path("fixed.md").read_text()
    Path("other.md").write_text("Something else.\n")
    r = runner.invoke(app, ["fix", "other.md", "--findings", "all.json"])
    assert r.exit_code == 4 and "has no findings for other.md" in r.stderr


def test_several_transcripts_are_ocred_in_one_pass(two_docs, tmp_path, monkeypatch):
    """All pages of the call go through one OCR run (one pool) first; each check then
    reads them from the cache."""
    import ocr_fix.ocr.scheduler as scheduler

    calls: list[int] = []
    real = scheduler.ocr_pages

    def counting(refs, engine, **kw):
        calls.append(len(refs))
        return real(refs, engine, **kw)

    monkeypatch.setattr(scheduler, "ocr_pages", counting)
    engine = FakeEngine(
        {n: (GOLDEN / n.replace(".png", ".gt.txt")).read_text() for n in ("02.png", "03.png")}
    )
    runner.engine = engine  # counts its readings
    args = ["check", "a/transcript.md", "b/transcript.md", "--scans", "auto", "-l", str(LEXICON)]
    r = runner.invoke(app, [*args, "-f", "json", "-q", "--jobs", "1", "--cache-dir", str(tmp_path / "c")])
    assert r.exit_code == 1, r.output
    assert calls[0] == 2 and engine.calls == 2  # both pages in the first run, none read twice
