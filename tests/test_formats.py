"""Archival transcript formats: ALTO, PAGE, hOCR and TEI at parity with markdown.

Findings must point at the text inside the XML file (line, column, element id); PAGE
reading order must be dinglehopper's; ``fix`` must change only the named values; and
anything that is not a supported format must be refused, never read as plain text.
"""

from __future__ import annotations

import json
import shutil
from html import escape as html_escape
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import numpy as np
import pytest
from lxml import etree

from ocr_fix.cli import app
from ocr_fix.errors import BadInput
from ocr_fix.transcript import read_transcript
from tests.conftest import ROOT
from tests.fakes import FakeEngine, OcrCliRunner

DATA = Path(__file__).resolve().parent / "data" / "formats"
GOLDEN = ROOT / "golden" / "psis-400-23"
SCANS = ROOT / "scans" / "psis-400-23"
LEXICON = ROOT / "lexicons" / "psis-400-23.txt"
runner = OcrCliRunner()


@pytest.fixture(autouse=True)
def _real_engine_unless_a_fixture_sets_one():
    runner.engine = None


def at(path: Path, line: int, column: int, end_column: int) -> str:
    """The file's own text at 1-based line / columns (end exclusive)."""
    return path.read_text(encoding="utf-8").splitlines()[line - 1][column - 1 : end_column - 1]


def span_of(t, word: str, nth: int = 0):
    i = -1
    for _ in range(nth + 1):
        i = t.text.index(word, i + 1)
    return t.span(i, i + len(word))


# --- readers: text, positions, ids -----------------------------------------------------------


def line_of(path: Path, needle: str) -> int:
    return next(n for n, ln in enumerate(path.read_text().splitlines(), 1) if needle in ln)


@pytest.mark.parametrize(
    ("word", "element"), [("Prince", "s1"), ("Kenoye", "s2"), ("despatched", "s4"), ("Tokyo.", "s6")]
)
def test_alto_position_is_the_content_attribute_in_the_file(word: str, element: str) -> None:
    path = DATA / "letter.alto.xml"
    t = read_transcript(path)
    assert t.kind == "alto"
    span = span_of(t, word)
    assert (span.line, span.element) == (line_of(path, f'ID="{element}"'), element)
    assert at(path, span.line, span.column, span.end_column) == word


def test_alto_entity_and_line_content() -> None:
    path = DATA / "letter.alto.xml"
    t = read_transcript(path)
    assert t.text == "Prince Kenoye A&B\ndespatched to Tokyo.\n\nline without strings"
    amp = span_of(t, "A&B")
    assert at(path, amp.line, amp.column, amp.end_column) == "A&amp;B"
    whole = span_of(t, "without")
    assert whole.element == "l3"
    assert at(path, whole.line, whole.column, whole.end_column) == "without"


def test_alto_span_over_two_strings_crosses_file_lines() -> None:
    t = read_transcript(DATA / "letter.alto.xml")
    span = span_of(t, "Prince Kenoye")
    path = DATA / "letter.alto.xml"
    assert (span.line, span.end_line, span.element) == (
        line_of(path, 'ID="s1"'),
        line_of(path, 'ID="s2"'),
        "s1",
    )


def test_page_nested_reading_order_matches_dinglehopper() -> None:
    ocr_files = pytest.importorskip("dinglehopper.ocr_files")
    path = DATA / "nested.page.xml"
    ours = [ln for ln in read_transcript(path).text.split("\n") if ln]
    theirs = ocr_files.page_text(etree.parse(str(path)), textequiv_level="line").split("\n")
    assert ours == theirs
    assert ours[0].startswith("Fürst") and ours[-1] == "last region"


def test_page_positions_and_ids_at_both_levels() -> None:
    path = DATA / "nested.page.xml"
    line_level = read_transcript(path)
    assert line_level.text.startswith("Fürst Kenoye <sic>\n")
    span = span_of(line_level, "Kenoye")
    assert span.element == "tl_1"
    assert at(path, span.line, span.column, span.end_column) == "Kenoye"
    sic = span_of(line_level, "<sic>")
    assert at(path, sic.line, sic.column, sic.end_column) == "&lt;sic&gt;"
    words = read_transcript(path, "word")
    assert words.text.startswith("Fürst Konoye\nschrieb an")  # tl_2 has no Words: its own text
    span = span_of(words, "Konoye")
    assert span.element == "w_1b"
    assert at(path, span.line, span.column, span.end_column) == "Konoye"


def test_page_regions_outside_the_reading_order_come_last(tmp_path: Path) -> None:
    text = (
        (DATA / "nested.page.xml").read_text().replace('<RegionRefIndexed index="2" regionRef="r_last"/>', "")
    )
    path = tmp_path / "p.xml"
    path.write_text(text)
    assert read_transcript(path).text.endswith("third regiun\n\nlast region")


def test_hocr_words_lines_pages() -> None:
    path = DATA / "page.hocr"
    t = read_transcript(path)
    assert t.kind == "hocr"
    assert t.text == "Prince Kenoye\ndespatched to Tokyo.\n\nSecond page"
    assert t.page_breaks == (t.text.index("Second"),)
    span = span_of(t, "Kenoye")  # inside <strong>
    assert span.element == "word_1_2"
    assert at(path, span.line, span.column, span.end_column) == "Kenoye"


def test_hocr_as_html_not_xml(tmp_path: Path) -> None:
    html = (
        "<!DOCTYPE html>\n<html><head><meta charset=utf-8><title>x</title></head><body>\n"
        "<div class='ocr_page' id='page_1'><span class='ocr_line' id='line_1'>\n"
        "<span class='ocrx_word' id='w1'>Prince</span> <span class='ocrx_word' id='w2'>Kenoye</span>\n"
        "</span></div></body></html>\n"
    )
    path = tmp_path / "page.html"
    path.write_text(html)
    t = read_transcript(path)
    assert (t.kind, t.text) == ("hocr", "Prince Kenoye")
    span = span_of(t, "Kenoye")
    assert (span.line, span.element) == (4, "w2")
    assert at(path, span.line, span.column, span.end_column) == "Kenoye"


def test_tei_subset() -> None:
    path = DATA / "letter.tei.xml"
    t = read_transcript(path)
    assert t.kind == "tei"
    assert t.text == ("Prince Kenoye despatched a telegram to Tokyo.\nThe envoy left.\n\nSecond page text.")
    assert t.page_breaks[-1] == t.text.index("Second")
    marks = {m.kind: m for m in t.marks}
    assert t.text[marks["sic"].start : marks["sic"].end] == "Kenoye" and marks["sic"].note == "Konoye"
    assert t.text[marks["unclear"].start : marks["unclear"].end] == "Tokyo"
    assert marks["gap"].start == marks["gap"].end == t.text.index("left")
    span = span_of(t, "gram")  # after <lb break="no"/>: the word goes on
    assert at(path, span.line, span.column, span.end_column) == "gram"
    assert span_of(t, "Kenoye").element == "p1"


def test_tei_detected_by_content_whatever_the_suffix(tmp_path: Path) -> None:
    for name in ("letter.tei.xml", "letter.tei", "letter.txt", "letter"):
        shutil.copy(DATA / "letter.tei.xml", tmp_path / name)
        assert read_transcript(tmp_path / name).kind == "tei"


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        ("<!DOCTYPE html>\n<html><body><p>Prince Konoye</p></body></html>\n", "HTML page without hOCR"),
        ("<html><body><p>Prince Konoye</p></body></html>", "HTML page without hOCR"),
        ('<?xml version="1.0"?>\n<document><para>Prince Konoye</para></document>\n', "root <document>"),
        ("<doc>Prince Konoye</doc>", "root <doc>"),
    ],
)
@pytest.mark.parametrize("suffix", [".txt", ".md", ".xml", ".html"])
def test_unknown_formats_are_refused_with_the_supported_list(
    tmp_path: Path, content: str, needle: str, suffix: str
) -> None:
    path = tmp_path / f"t{suffix}"
    path.write_text(content)
    with pytest.raises(BadInput, match="unsupported transcript format") as info:
        read_transcript(path)
    assert needle in str(info.value) and "ALTO" in str(info.value) and "TEI" in str(info.value)
    r = runner.invoke(app, ["check", str(path), "--quiet"])
    assert r.exit_code == 4, r.output


def test_markdown_that_starts_with_a_tag_is_still_markdown(tmp_path: Path) -> None:
    path = tmp_path / "t.md"
    path.write_text("<sup>1</sup> Prince Konoye went to Moscow.\n<!-- note -->\n")
    assert read_transcript(path).kind == "markdown"


# --- check end to end: the same finding in every format --------------------------------------

PAGE_NS = "http://schema.primaresearch.org/PAGE/gts/pagecontent/2019-07-15"


def _lines() -> list[str]:
    return [ln for ln in (GOLDEN / "02.gt.txt").read_text().splitlines() if ln.strip()]


def _alto(lines: list[str]) -> str:
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<alto xmlns="http://www.loc.gov/standards/alto/ns-v4#">',
    ]
    out.append('<Layout><Page ID="p"><PrintSpace><TextBlock ID="b">')
    for i, line in enumerate(lines):
        out.append(f'  <TextLine ID="l{i}">')
        for j, word in enumerate(line.split()):
            out.append(f'    <String ID="s{i}_{j}" CONTENT={quoteattr(word)}/>')
        out.append("  </TextLine>")
    out.append("</TextBlock></PrintSpace></Page></Layout></alto>")
    return "\n".join(out) + "\n"


def _page(lines: list[str]) -> str:
    out = ['<?xml version="1.0" encoding="UTF-8"?>', f'<PcGts xmlns="{PAGE_NS}">', "<Page>"]
    out.append('<TextRegion id="r">')
    for i, line in enumerate(lines):
        out.append(f'<TextLine id="l{i}"><TextEquiv><Unicode>{escape(line)}</Unicode></TextEquiv></TextLine>')
    out.append("</TextRegion></Page></PcGts>")
    return "\n".join(out) + "\n"


def _hocr(lines: list[str]) -> str:
    out = ['<?xml version="1.0" encoding="UTF-8"?>', '<html xmlns="http://www.w3.org/1999/xhtml"><body>']
    out.append('<div class="ocr_page" id="page_1"><p class="ocr_par" id="par_1">')
    for i, line in enumerate(lines):
        words = " ".join(
            f'<span class="ocrx_word" id="w{i}_{j}">{html_escape(w, quote=False)}</span>'
            for j, w in enumerate(line.split())
        )
        out.append(f'<span class="ocr_line" id="line{i}">{words}</span>')
    out.append("</p></div></body></html>")
    return "\n".join(out) + "\n"


def _tei(lines: list[str]) -> str:
    out = ['<?xml version="1.0" encoding="UTF-8"?>', '<TEI xmlns="http://www.tei-c.org/ns/1.0">']
    out.append("<teiHeader><fileDesc><titleStmt><title>t</title></titleStmt></fileDesc></teiHeader>")
    out.append('<text><body><p xml:id="body">')
    out += [f"{escape(line)}<lb/>" for line in lines]
    out.append("</p></body></text></TEI>")
    return "\n".join(out) + "\n"


@pytest.fixture
def one_page(tmp_path, monkeypatch):
    d = tmp_path / "scans"
    d.mkdir()
    shutil.copy(SCANS / "02.png", d / "02.png")
    engine = FakeEngine({"02.png": (GOLDEN / "02.gt.txt").read_text()})
    runner.engine = engine  # this test's commands OCR with the fake
    return d


@pytest.mark.parametrize(
    ("make", "name", "element"),
    [
        (_alto, "t.alto.xml", "s"),
        (_page, "t.page.xml", "l"),
        (_hocr, "t.hocr", "w"),
        (_tei, "t.tei.xml", "body"),
    ],
)
def test_check_finds_the_error_at_its_place_in_the_file(one_page, tmp_path, make, name, element) -> None:
    lines = _lines()
    row = next(i for i, ln in enumerate(lines) if "Prince Konoye" in ln)
    lines[row] = lines[row].replace("Prince Konoye", "Prince Kenoye")
    path = tmp_path / name
    path.write_text(make(lines))
    r = runner.invoke(
        app,
        [
            "check",
            str(path),
            str(one_page),
            "-l",
            str(LEXICON),
            "-f",
            "json",
            "--jobs",
            "1",
            "--no-cache",
            "-q",
        ],
    )
    assert r.exit_code == 1, r.output
    doc = json.loads(r.stdout)
    hit = [f for f in doc["findings"] if f["suggestion"] == "Konoye"]
    assert hit and hit[0]["severity"] == "error", doc["findings"]
    t = hit[0]["transcript"]
    assert at(path, t["line"], t["column"], t["end_column"]) == t["text"] == "Kenoye"
    assert t["element"].startswith(element)
    r = runner.invoke(
        app,
        [
            "check",
            str(path),
            str(one_page),
            "-l",
            str(LEXICON),
            "-f",
            "github",
            "--jobs",
            "1",
            "--no-cache",
            "-q",
        ],
    )
    assert f"line={t['line']},col={t['column']}," in r.stdout


# --- fix on XML ------------------------------------------------------------------------------


def _finding(t, word: str, suggestion: str, kind: str = "substitution", nth: int = 0) -> dict:
    span = span_of(t, word, nth)
    return {
        "severity": "error",
        "kind": kind,
        "transcript": {
            "line": span.line,
            "column": span.column,
            "end_column": span.end_column,
            "text": span.text,
            "offset": span.start,
            "end_offset": span.end,
        },
        "scan": None,
        "suggestion": suggestion,
        "message": "",
    }


def _findings_file(tmp_path: Path, t, findings: list[dict]) -> Path:
    out = tmp_path / "f.json"
    doc = {"schema": "ocr-fix/check/1", "transcript_sha256": t.sha256, "findings": findings}
    out.write_text(json.dumps(doc))
    return out


def test_fix_on_alto_changes_only_the_named_content(tmp_path: Path) -> None:
    path = tmp_path / "letter.alto.xml"
    shutil.copy(DATA / "letter.alto.xml", path)
    before = path.read_bytes()
    t = read_transcript(path)
    findings = _findings_file(
        tmp_path,
        t,
        [_finding(t, "Kenoye", "Konoye"), _finding(t, "A&B", "A<B"), _finding(t, "to Tokyo", "to Kyoto")],
    )
    r = runner.invoke(app, ["fix", str(path), "--findings", str(findings), "--in-place"])
    assert r.exit_code == 0, r.output
    after = path.read_bytes()
    assert (tmp_path / "letter.alto.xml.bak").read_bytes() == before
    expected = (
        before.replace(b'CONTENT="Kenoye"', b'CONTENT="Konoye"')
        .replace(b'CONTENT="A&amp;B"', b'CONTENT="A&lt;B"')
        .replace(b'CONTENT="Tokyo."', b'CONTENT="Kyoto."')
    )
    assert after == expected
    assert read_transcript(path).text.startswith("Prince Konoye A<B\ndespatched to Kyoto.")


def test_fix_on_alto_refuses_a_merge_across_strings(tmp_path: Path) -> None:
    path = tmp_path / "letter.alto.xml"
    shutil.copy(DATA / "letter.alto.xml", path)
    t = read_transcript(path)
    findings = _findings_file(tmp_path, t, [_finding(t, "Prince Kenoye", "PrinceKonoye")])
    r = runner.invoke(app, ["fix", str(path), "--findings", str(findings), "-o", str(tmp_path / "out.xml")])
    assert r.exit_code == 0
    assert "spans 2 elements" in r.stderr
    assert (tmp_path / "out.xml").read_bytes() == path.read_bytes()


def test_fix_on_page_edits_the_unicode_text_and_checks_the_hash(tmp_path: Path) -> None:
    path = tmp_path / "p.xml"
    shutil.copy(DATA / "nested.page.xml", path)
    before = path.read_bytes()
    t = read_transcript(path)
    findings = _findings_file(tmp_path, t, [_finding(t, "regiun", "region")])
    r = runner.invoke(app, ["fix", str(path), "--findings", str(findings), "-o", "-"])
    assert r.exit_code == 0, r.output
    assert r.stdout_bytes == before.replace(b"third regiun", b"third region")
    path.write_bytes(before.replace(b"schrieb", b"schreibt"))
    r = runner.invoke(app, ["fix", str(path), "--findings", str(findings)])
    assert r.exit_code == 9


def test_fix_reads_stdin(tmp_path: Path) -> None:
    t = read_transcript(DATA / "letter.alto.xml")
    findings = _findings_file(tmp_path, t, [_finding(t, "Kenoye", "Konoye")])
    raw = (DATA / "letter.alto.xml").read_bytes()
    r = runner.invoke(app, ["fix", "-", "--findings", str(findings), "-o", "-"], input=raw)
    assert r.exit_code == 0, r.output
    assert r.stdout_bytes == raw.replace(b'"Kenoye"', b'"Konoye"')


def test_tei_unclear_and_gap_turn_findings_into_info(one_page, tmp_path) -> None:
    lines = _lines()
    row = next(i for i, ln in enumerate(lines) if "Prince Konoye" in ln)
    lines[row] = lines[row].replace("Prince Konoye", "Prince Kenoye")
    body = _tei(lines).replace("Kenoye", "<unclear>Kenoye</unclear>")
    path = tmp_path / "t.tei.xml"
    path.write_text(body)
    r = runner.invoke(
        app,
        [
            "check",
            str(path),
            str(one_page),
            "-l",
            str(LEXICON),
            "-f",
            "json",
            "--jobs",
            "1",
            "--no-cache",
            "-q",
        ],
    )
    assert r.exit_code in (0, 1) and r.stdout, (r.exit_code, r.output, r.stderr)
    doc = json.loads(r.stdout)
    hit = [f for f in doc["findings"] if f["suggestion"] == "Konoye"]
    assert hit and hit[0]["severity"] == "info" and hit[0]["features"]["editorial_unclear"] == 1.0


def test_check_reads_stdin_and_writes_stdout(tmp_path: Path) -> None:
    raw = (DATA / "letter.alto.xml").read_bytes()
    r = runner.invoke(app, ["check", "-", "-f", "json", "-o", "-", "-q"], input=raw)
    assert r.exit_code in (0, 1) and r.stdout, (r.exit_code, r.output, r.stderr)
    doc = json.loads(r.stdout)
    assert doc["transcript_sha256"] == read_transcript(DATA / "letter.alto.xml").sha256
    assert not (Path.cwd() / "-").exists()


# --- scans: more image types, natural order --------------------------------------------------


def _grey_page() -> np.ndarray:
    rng = np.random.default_rng(3)
    page = np.full((120, 90), 255, dtype=np.uint8)
    page[20:100:10, 10:80] = rng.integers(0, 80, size=(8, 70), dtype=np.uint8)
    return page


@pytest.mark.parametrize(
    ("suffix", "options"),
    [(".jp2", {}), (".j2k", {}), (".webp", {"lossless": True}), (".bmp", {}), (".pgm", {}), (".pnm", {})],
)
def test_more_scan_types_read_pixel_exact(tmp_path: Path, suffix: str, options: dict) -> None:
    from PIL import Image

    from ocr_fix.scans import expand_scans, load_image

    page = _grey_page()
    path = tmp_path / f"page{suffix}"
    Image.fromarray(page, mode="L").save(path, format="PPM" if suffix == ".pnm" else None, **options)
    refs = expand_scans([tmp_path])
    assert [r.path for r in refs] == [path]
    assert np.array_equal(load_image(refs[0]), page)  # JPEG 2000 here is the lossless 5/3 wavelet


def test_a_jp2_scan_is_checked(tmp_path: Path, monkeypatch) -> None:
    from PIL import Image

    d = tmp_path / "scans"
    d.mkdir()
    Image.open(SCANS / "02.png").convert("L").save(d / "02.jp2")
    engine = FakeEngine({"02.jp2": (GOLDEN / "02.gt.txt").read_text()})
    runner.engine = engine  # this test's commands OCR with the fake
    lines = _lines()
    row = next(i for i, ln in enumerate(lines) if "Prince Konoye" in ln)
    lines[row] = lines[row].replace("Prince Konoye", "Prince Kenoye")
    path = tmp_path / "t.txt"
    path.write_text("\n".join(lines) + "\n")
    r = runner.invoke(app, ["check", str(path), str(d), "-l", str(LEXICON), "-f", "json", "--no-cache", "-q"])
    assert r.exit_code == 1, r.output
    doc = json.loads(r.stdout)
    assert doc["pages"][0]["image"].endswith("02.jp2")
    assert any(f["suggestion"] == "Konoye" for f in doc["findings"])


def test_pages_in_natural_order(tmp_path: Path) -> None:
    from PIL import Image

    from ocr_fix.batch.discovery import discover
    from ocr_fix.inputs import scans_in
    from ocr_fix.scans import expand_scans, natural_key

    names = ["page10.png", "page2.png", "page1.png", "Page3.png", "page02b.png"]
    for n in names:
        Image.new("L", (8, 8), 255).save(tmp_path / n)
    (tmp_path / "transcript.md").write_text("text\n")
    want = ["page1.png", "page2.png", "page02b.png", "Page3.png", "page10.png"]
    assert sorted(names, key=natural_key) == want
    assert [r.path.name for r in expand_scans([tmp_path])] == want
    assert [p.name for p in scans_in(tmp_path)] == want
    docs = discover(tmp_path)
    assert [p.name for p in docs[0].scans] == want


# --- score: XML on either side, --max-cer, csv -----------------------------------------------


def test_score_reads_alto_page_hocr_like_text(tmp_path: Path) -> None:
    lines = _lines()
    (tmp_path / "gt.txt").write_text("\n".join(lines) + "\n")
    ocr_lines = [ln.replace("Konoye", "Kenoye") for ln in lines]
    files = {"o.alto.xml": _alto(ocr_lines), "o.page.xml": _page(ocr_lines), "o.hocr": _hocr(ocr_lines)}
    (tmp_path / "o.txt").write_text("\n".join(ocr_lines) + "\n")
    expected = json.loads(
        runner.invoke(app, ["score", str(tmp_path / "gt.txt"), str(tmp_path / "o.txt"), "-f", "json"]).stdout
    )
    assert 0 < expected["summary"]["cer"] < 0.05
    for name, text in files.items():
        (tmp_path / name).write_text(text)
        r = runner.invoke(app, ["score", str(tmp_path / "gt.txt"), str(tmp_path / name), "-f", "json"])
        assert r.exit_code == 0, r.output
        assert json.loads(r.stdout)["summary"]["cer"] == expected["summary"]["cer"], name
        r = runner.invoke(app, ["score", str(tmp_path / name), str(tmp_path / "o.txt"), "-f", "json"])
        assert json.loads(r.stdout)["summary"]["cer"] == 0.0, name


def test_score_directories_pair_xml_pages_by_name(tmp_path: Path) -> None:
    gt, ocr = tmp_path / "gt", tmp_path / "ocr"
    gt.mkdir()
    ocr.mkdir()
    lines = _lines()
    (gt / "p2.gt.txt").write_text("\n".join(lines))
    (gt / "p10.xml").write_text(_page(lines))
    (ocr / "p2.xml").write_text(_alto(lines))
    (ocr / "p10.hocr").write_text(_hocr(lines))
    r = runner.invoke(app, ["score", str(gt), str(ocr), "-f", "csv"])
    assert r.exit_code == 0, r.output
    rows = r.stdout.splitlines()
    assert rows[0].startswith("page,gt,ocr,cer,wer,chars")
    assert [row.split(",")[0] for row in rows[1:4]] == ["p2", "p10", "micro"]
    assert all(row.split(",")[3] == "0.000000" for row in rows[1:4])


def test_score_max_cer_exit_code(tmp_path: Path) -> None:
    (tmp_path / "gt.txt").write_text("Prince Konoye went to Moscow\n")
    (tmp_path / "ocr.txt").write_text("Prince Kenoye went to Moscow\n")
    args = ["score", str(tmp_path / "gt.txt"), str(tmp_path / "ocr.txt"), "-f", "json"]
    assert runner.invoke(app, [*args, "--max-cer", "0.1"]).exit_code == 0
    r = runner.invoke(app, [*args, "--max-cer", "0.01"])
    assert r.exit_code == 1 and "above --max-cer" in r.stderr
    assert json.loads(r.stdout)["summary"]["cer"] > 0.01  # the report is still written


def test_score_refuses_unknown_markup(tmp_path: Path) -> None:
    (tmp_path / "gt.txt").write_text("Prince Konoye\n")
    (tmp_path / "ocr.html").write_text("<html><body><p>Prince Konoye</p></body></html>")
    r = runner.invoke(app, ["score", str(tmp_path / "gt.txt"), str(tmp_path / "ocr.html")])
    assert r.exit_code == 4 and "unsupported transcript format" in r.stderr


# --- OCR out as ALTO and PAGE, schema-valid --------------------------------------------------

SCHEMAS = Path(__file__).resolve().parent / "schemas"


def _schema(name: str) -> etree.XMLSchema:
    text = (SCHEMAS / name).read_text(encoding="utf-8")
    local = (SCHEMAS / "xlink.xsd").as_uri()
    text = text.replace("http://www.loc.gov/standards/xlink/xlink.xsd", local)  # offline import
    parser = etree.XMLParser(no_network=True)
    return etree.XMLSchema(etree.fromstring(text.encode("utf-8"), parser, base_url=str(SCHEMAS) + "/"))


def _ocr_page():
    from ocr_fix.model import BBox, Page, PageRef, Word

    words = (
        Word("Prince", BBox(100, 100, 220, 140), 96.0, 1, 1, 1),
        Word("Konoye", BBox(240, 100, 400, 140), 91.4, 1, 1, 1),
        Word("A&B<", BBox(420, 100, 520, 140), -1.0, 1, 1, 1),
        Word("went", BBox(100, 160, 200, 200), 88.0, 2, 1, 1),
        Word("Seite", BBox(100, 400, 220, 440), 70.0, 3, 2, 1),
    )
    return Page(PageRef(Path("scans/02.png"), 0, 2), 1000, 1400, words)


def test_ocr_alto_is_schema_valid_and_reads_back() -> None:
    from ocr_fix.ocr.formats import page_alto

    xml = page_alto(_ocr_page())
    doc = etree.fromstring(xml.encode("utf-8"))
    schema = _schema("alto-4-2.xsd")
    assert schema.validate(doc), schema.error_log
    strings = doc.findall(".//{*}String")
    assert [s.get("CONTENT") for s in strings] == ["Prince", "Konoye", "A&B<", "went", "Seite"]
    assert [s.get("WC") for s in strings][:3] == ["0.96", "0.91", "0.00"]
    assert (strings[1].get("HPOS"), strings[1].get("WIDTH")) == ("240", "160")
    assert len(doc.findall(".//{*}TextBlock")) == 2


def test_ocr_page_is_schema_valid_and_reads_back(tmp_path: Path) -> None:
    from ocr_fix.ocr.formats import page_pagexml

    xml = page_pagexml(_ocr_page(), created="2026-12-01T07:00:00")
    doc = etree.fromstring(xml.encode("utf-8"))
    schema = _schema("pagecontent-2019-07-15.xsd")
    assert schema.validate(doc), schema.error_log
    path = tmp_path / "02.page.xml"
    path.write_text(xml)
    assert read_transcript(path).text == "Prince Konoye A&B<\nwent\n\nSeite"
    assert read_transcript(path, "word").text == "Prince Konoye A&B<\nwent\n\nSeite"
    word = doc.find(".//{*}Word")
    assert word.find("{*}TextEquiv").get("conf") == "0.96"


def test_an_empty_page_is_valid_too() -> None:
    from ocr_fix.model import Page, PageRef
    from ocr_fix.ocr.formats import page_alto, page_pagexml

    empty = Page(PageRef(Path("blank.png"), 0, 1), 100, 100, ())
    assert _schema("alto-4-2.xsd").validate(etree.fromstring(page_alto(empty).encode()))
    page = etree.fromstring(page_pagexml(empty, created="2026-12-01T07:00:00").encode())
    assert _schema("pagecontent-2019-07-15.xsd").validate(page)


def test_ocr_command_writes_alto_and_page(tmp_path: Path, monkeypatch) -> None:
    scans = tmp_path / "scans"
    scans.mkdir()
    for n in ("p2", "p10"):
        shutil.copy(SCANS / "02.png", scans / f"{n}.png")
    engine = FakeEngine({"p2.png": "Prince Konoye\nwent", "p10.png": "to Moscow"})
    monkeypatch.setattr("ocr_fix.cli.ocr.TesseractEngine", lambda settings: engine)
    out = tmp_path / "out"
    for fmt in ("alto", "page"):
        r = runner.invoke(app, ["ocr", str(scans), "-o", str(out), "-f", fmt, "--no-cache", "-q", "-j", "1"])
        assert r.exit_code == 0, r.output
    assert sorted(p.name for p in out.iterdir()) == [
        "p10.alto.xml",
        "p10.page.xml",
        "p2.alto.xml",
        "p2.page.xml",
    ]
    assert read_transcript(out / "p2.alto.xml").text == "Prince Konoye\nwent"
    assert read_transcript(out / "p10.page.xml").text == "to Moscow"


def test_dash_is_stdin_and_stdout_in_score_ocr_and_lexicon(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "ocr.txt").write_text("Prince Kenoye went to Moscow\n")
    alto = _alto(["Prince Konoye went to Moscow"])
    r = runner.invoke(app, ["score", "-", str(tmp_path / "ocr.txt"), "-f", "csv", "-o", "-"], input=alto)
    assert r.exit_code == 0, r.output
    assert r.stdout.splitlines()[1].startswith("-,-,")
    assert runner.invoke(app, ["score", "-", "-"], input="x").exit_code == 4
    scans = tmp_path / "scans"
    scans.mkdir()
    shutil.copy(SCANS / "02.png", scans / "02.png")
    engine = FakeEngine({"02.png": "Prince Konoye"})
    monkeypatch.setattr("ocr_fix.cli.ocr.TesseractEngine", lambda settings: engine)
    r = runner.invoke(app, ["ocr", str(scans / "02.png"), "-o", "-", "-f", "alto", "--no-cache", "-q"])
    assert r.exit_code == 0, r.output
    assert 'CONTENT="Konoye"' in r.stdout and not (Path.cwd() / "-").exists()
    r = runner.invoke(app, ["lexicon", "suggest", "-", "-o", "-"], input="Prince Konoye met Prince Konoye.\n")
    assert r.exit_code == 0, r.output


def test_batch_finds_an_xml_transcript(tmp_path: Path) -> None:
    from ocr_fix.batch.discovery import discover

    doc = tmp_path / "letter"
    doc.mkdir()
    shutil.copy(SCANS / "02.png", doc / "02.png")
    shutil.copy(DATA / "letter.alto.xml", doc / "transcript.xml")
    found = discover(tmp_path)
    assert [(d.id, d.transcript.name if d.transcript else None, d.problem) for d in found] == [
        ("letter", "transcript.xml", None)
    ]


def test_our_own_ocr_outputs_read_back_as_transcripts(tmp_path: Path) -> None:
    from ocr_fix.ocr.formats import page_alto, page_hocr, page_pagexml

    page = _ocr_page()
    expected = "Prince Konoye A&B<\nwent\n\nSeite"
    for name, text in (
        ("p.hocr", page_hocr(page)),
        ("p.alto.xml", page_alto(page)),
        ("p.page.xml", page_pagexml(page, created="2026-12-01T07:00:00")),
    ):
        path = tmp_path / name
        path.write_text(text)
        t = read_transcript(path)
        assert t.text.replace("\n\n", "\n") == expected.replace("\n\n", "\n"), name
        span = span_of(t, "A&B<")
        assert at(path, span.line, span.column, span.end_column) == "A&amp;B&lt;"


REALDATA = ROOT.parent / "shared" / "realdata"


@pytest.mark.skipif(not REALDATA.is_dir(), reason="realdata absent")
def test_every_character_of_the_real_alto_files_points_at_itself() -> None:
    import html

    files = sorted(REALDATA.glob("*/*.xml"))
    assert files
    for path in files:
        t = read_transcript(path)
        assert t.source is not None and t.kind == "alto"
        lines = path.read_text(encoding="utf-8").splitlines()
        for i, ch in enumerate(t.text):
            if t.source.slots[i] == -1:
                continue  # a space or line break the reader put between values
            span = t.span(i, i + 1)
            assert html.unescape(lines[span.line - 1][span.column - 1 : span.end_column - 1]) == ch, (path, i)
            assert span.element


@pytest.mark.parametrize(
    ("name", "word", "fix", "before", "after"),
    [
        ("page.hocr", "Kenoye", "Konoye", b"<strong>Kenoye</strong>", b"<strong>Konoye</strong>"),
        ("letter.tei.xml", "envoy", "Envoy", b"The envoy <gap", b"The Envoy <gap"),
    ],
)
def test_fix_on_hocr_and_tei_edits_only_the_text(
    tmp_path: Path, name: str, word: str, fix: str, before: bytes, after: bytes
) -> None:
    path = tmp_path / name
    shutil.copy(DATA / name, path)
    raw = path.read_bytes()
    t = read_transcript(path)
    findings = _findings_file(tmp_path, t, [_finding(t, word, fix)])
    r = runner.invoke(app, ["fix", str(path), "--findings", str(findings), "-o", "-"])
    assert r.exit_code == 0, r.output
    assert r.stdout_bytes == raw.replace(before, after)
