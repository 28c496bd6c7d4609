"""``--format html``: the review page, checked as a document (no browser, no Tesseract).

Pages come from ``page_from_text`` with their ``ref.path`` pointing at PNGs drawn here
(a dark bar where each word's box is), so the report has real pixels to crop.
"""

from __future__ import annotations

import base64
import hashlib
import io
import re
from dataclasses import replace
from pathlib import Path

import cv2
import lxml.html
import numpy as np
import pytest
from markupsafe import escape
from PIL import Image
from typer.testing import CliRunner

from ocr_fix.cli import app
from ocr_fix.lexicon import Lexicon
from ocr_fix.model import BBox, Page, PageRef, Severity, TranscriptSpan
from ocr_fix.pipeline import CheckResult, check_pages
from ocr_fix.report import html
from ocr_fix.transcript import Transcript
from tests.fakes import page_from_text

SCAN_1 = """The committee met on Tuesday in Geneva to discuss
the refugee question at length and agreed on
a plan for the winter months of the year
<script>alert(1)</script> and <img src=x onerror=alert(1)> appear
in the minutes kept by the secretary"""
TRANSCRIPT_1 = """The committee met on Thursday in Geneva to discuss
the refugee question at lenght and agreed on
a plan for the winter of the year
<script>alert(1)</script> and <img src=x onerror=alert(1)> appear
in the minutes kept by the secretary general"""
SCAN_2 = """Second page of the minutes with the delegates
from Switzerland and France present at the meeting
who voted on the resolution about housing"""
TRANSCRIPT_2 = """Second page of the minutes with the delegates
from Switzerland and Frnace present at the meeting
who voted on the resolution about housing"""

HOSTILE = ("<script>window.__pwned=1</script>", '<img src=x onerror="window.__pwned=1">')


def draw_page(page: Page, path: Path, paper: int = 255, ink: int = 40) -> None:
    """A page image with a dark bar inside each word's box."""
    img = np.full((page.height, page.width), paper, np.uint8)
    for w in page.words:
        cv2.rectangle(img, (w.box.x0 + 2, w.box.y0 + 5), (w.box.x1 - 3, w.box.y1 - 5), ink, -1)
    cv2.imwrite(str(path), img)


def build_result(directory: Path, scans: list[str], transcript: str) -> CheckResult:
    """Check ``transcript`` against fake OCR of ``scans``, one PNG per page in ``directory``."""
    pages = []
    for n, text in enumerate(scans, 1):
        path = directory / f"{n:02d}.png"
        page = page_from_text(text, n, path)
        draw_page(page, path)
        pages.append(page)
    t = Transcript(directory / "transcript.md", transcript, "markdown")
    return check_pages(
        t, pages, Lexicon(), scans=[str(directory / f"{n:02d}.png") for n in range(1, len(scans) + 1)]
    )


def two_page_result(tmp_path: Path) -> CheckResult:
    return build_result(tmp_path, [SCAN_1, SCAN_2], TRANSCRIPT_1 + "\n\n" + TRANSCRIPT_2)


def css(el: lxml.html.HtmlElement, selector: str) -> list[lxml.html.HtmlElement]:
    """Tiny CSS subset (``tag.class`` steps separated by spaces) over XPath; lxml's
    cssselect needs a package the project does not depend on."""
    path = "."
    for step in selector.split():
        tag, *classes = step.split(".")
        path += f"//*[local-name()='{tag}']" if tag else "//*"
        for cls in classes:
            path += f"[contains(concat(' ', normalize-space(@class), ' '), ' {cls} ')]"
    return el.xpath(path)


def decode(uri: str, mime: str) -> Image.Image:
    prefix = f"data:{mime};base64,"
    assert uri.startswith(prefix)
    return Image.open(io.BytesIO(base64.b64decode(uri[len(prefix) :])))


@pytest.fixture()
def result(tmp_path: Path) -> CheckResult:
    return two_page_result(tmp_path)


@pytest.fixture()
def doc(result: CheckResult) -> lxml.html.HtmlElement:
    return lxml.html.document_fromstring(html.render(result))


def test_every_finding_is_on_the_page_with_its_message_and_suggestion(result: CheckResult) -> None:
    out = html.render(result)
    tree = lxml.html.document_fromstring(out)
    articles = css(tree, "article.finding")
    assert len(result.findings) >= 5
    assert len(articles) == len(result.findings)
    for f, art in zip(result.findings, articles, strict=True):
        assert art.get("data-severity") == f.severity.value
        assert art.get("data-kind") == f.kind.value
        assert str(escape(f.message)) in out
        assert css(art, ".message")[0].text_content() == f.message
        if f.suggestion:
            assert css(art, "q.suggestion")[0].text_content() == f.suggestion
        if f.scan:
            assert css(art, "q.ocr")[0].text_content() == f.scan.text


def test_transcript_span_is_marked_on_its_line(result: CheckResult, doc: lxml.html.HtmlElement) -> None:
    for f, art in zip(result.findings, css(doc, "article.finding"), strict=True):
        if f.transcript is None:
            continue
        line = css(art, ".tline")[0]
        assert css(line, ".ln")[0].text_content() == str(f.transcript.line)
        assert css(line, ".lt")[0].text_content() == result.transcript.line_text(f.transcript.line)
        assert css(line, "mark")[0].text_content() == f.transcript.text


def test_header_counts_pages_and_agreement(result: CheckResult, doc: lxml.html.HtmlElement) -> None:
    summary = css(doc, ".summary")[0].text_content()
    for s in Severity:
        assert f"{result.count(s)} {s.value}" in summary
    facts = css(doc, ".facts")[0].text_content()
    assert str(result.transcript.path) in facts
    assert f"{result.agreement:.1%}" in facts
    assert len(css(doc, "figure.page")) == 2


def test_hostile_text_is_shown_as_text_and_only_our_script_exists(tmp_path: Path) -> None:
    scan = SCAN_1 + "\n" + " and ".join(HOSTILE)
    transcript = TRANSCRIPT_1 + "\n" + " and ".join(HOSTILE) + " too"
    r = build_result(tmp_path, [scan], transcript)
    out = html.render(r)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in out
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in out
    assert "<img src=x" not in out and 'onerror="window' not in out
    assert out.count("<script") == 1
    tree = lxml.html.document_fromstring(out)
    scripts = tree.xpath("//script")
    assert len(scripts) == 1
    assert scripts[0].text == html._environment().loader.get_source(html._environment(), "report.js")[0]
    assert not tree.xpath("//@*[starts-with(name(), 'on')]")
    assert all(img.get("src", "").startswith("data:image/") for img in tree.xpath("//img"))
    shown = " ".join(line.text_content() for line in css(tree, ".tline .lt"))
    assert HOSTILE[0] in shown


def test_csp_pins_the_exact_inline_script_and_style(doc: lxml.html.HtmlElement) -> None:
    csp = doc.xpath("//meta[@http-equiv='Content-Security-Policy']/@content")[0]
    assert "default-src 'none'" in csp and "img-src data:" in csp
    for tag, directive in (("script", "script-src"), ("style", "style-src")):
        body = doc.xpath(f"//{tag}")[0].text
        digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
        assert f"{directive} 'sha256-{digest}'" in csp
    assert "unsafe-inline" not in csp


def test_crops_are_pngs_of_their_stated_size_with_the_word_box(
    result: CheckResult, doc: lxml.html.HtmlElement
) -> None:
    boxed = [f for f in result.findings if f.scan and f.scan.bbox]
    crops = css(doc, "figure.crop img")
    assert len(crops) == len(boxed) > 0
    for f, img in zip(boxed, crops, strict=True):
        pic = decode(img.get("src"), "image/png")
        assert pic.format == "PNG"
        assert pic.size == (int(img.get("width")), int(img.get("height")))
        assert img.get("data-bbox") == ",".join(map(str, f.scan.bbox.as_list()))
        rgb = np.asarray(pic.convert("RGB"))
        red = (rgb[..., 0] > 180) & (rgb[..., 1] < 80) & (rgb[..., 2] < 80)
        assert red.sum() > 2 * (f.scan.bbox.width + f.scan.bbox.height)  # the outline is drawn
        grey = rgb[..., 1]
        assert grey.min() < 80 and grey.max() > 240  # ink and paper both in the crop


def test_thumbnails_carry_one_linked_box_per_finding(result: CheckResult, doc: lxml.html.HtmlElement) -> None:
    for page in css(doc, "figure.page"):
        img = css(page, ".thumb img")[0]
        thumb = decode(img.get("src"), "image/jpeg")
        assert thumb.size == (int(img.get("width")), int(img.get("height"))) == (html.THUMB_WIDTH, 388)
        assert css(page, "svg")[0].get("viewbox") == "0 0 2550 3300"
    links = doc.xpath("//*[local-name()='svg']//*[local-name()='a']")
    expected = [
        a.get("id")
        for a, f in zip(css(doc, "article.finding"), result.findings, strict=True)
        if f.scan and f.scan.bbox
    ]
    assert [a.get("href") for a in links] == [f"#{i}" for i in expected]


def test_multi_page_tiff_crops_come_from_the_right_frame(tmp_path: Path) -> None:
    tiff = tmp_path / "both.tif"
    pages = []
    frames = []
    for n, (text, ink) in enumerate(((SCAN_1, 40), (SCAN_2, 150)), 1):
        page = page_from_text(text, n, tiff)
        page = Page(PageRef(tiff, n - 1, n, multi=True), page.width, page.height, page.words)
        draw_page(page, tmp_path / f"frame{n}.png", ink=ink)
        frames.append(Image.open(tmp_path / f"frame{n}.png"))
        pages.append(page)
    frames[0].save(tiff, save_all=True, append_images=frames[1:], compression="tiff_deflate")
    r = check_pages(
        Transcript(tmp_path / "t.md", TRANSCRIPT_1 + "\n\n" + TRANSCRIPT_2, "markdown"),
        pages,
        Lexicon(),
        scans=[str(tiff)],
    )
    tree = lxml.html.document_fromstring(html.render(r))
    boxed = [f for f in r.findings if f.scan and f.scan.bbox]
    assert {f.scan.page for f in boxed} == {1, 2}
    for f, img in zip(boxed, css(tree, "figure.crop img"), strict=True):
        rgb = np.asarray(decode(img.get("src"), "image/png").convert("RGB")).astype(int)
        darkest = int(rgb[..., 1][rgb[..., 0] == rgb[..., 1]].min())  # greys, not the outline
        expected, other = (40, 150) if f.scan.page == 1 else (150, 40)
        assert abs(darkest - expected) < abs(darkest - other)


def test_missing_scan_file_leaves_a_note_on_its_page(tmp_path: Path) -> None:
    r = two_page_result(tmp_path)
    (tmp_path / "02.png").unlink()
    tree = lxml.html.document_fromstring(html.render(r))
    missing = css(tree, ".thumb.missing")
    assert len(missing) == 1 and "no such file" in missing[0].text_content()
    assert len(css(tree, "article.finding")) == len(r.findings)
    on_page_1 = [f for f in r.findings if f.scan and f.scan.bbox and f.scan.page == 1]
    assert len(css(tree, "figure.crop img")) == len(on_page_1) > 0


def test_unreadable_page_image_is_reported_on_its_page_only(tmp_path: Path) -> None:
    r = two_page_result(tmp_path)
    (tmp_path / "02.png").write_bytes(b"not a png")
    tree = lxml.html.document_fromstring(html.render(r))
    missing = css(tree, ".thumb.missing")
    assert len(missing) == 1 and "not readable" in missing[0].text_content()
    on_page_1 = [f for f in r.findings if f.scan and f.scan.bbox and f.scan.page == 1]
    assert len(css(tree, "figure.crop img")) == len(on_page_1) > 0


def test_lexicon_only_result_has_no_pages_section(tmp_path: Path) -> None:
    t = Transcript(tmp_path / "t.md", "A short note about nothing in particular.\n", "markdown")
    r = CheckResult(t, (), (), (), None)
    tree = lxml.html.document_fromstring(html.render(r))
    assert not css(tree, "details.pages")
    assert css(tree, "p.none")[0].text_content() == "No findings."
    assert "lexicon-only" in css(tree, ".facts")[0].text_content()


def test_finding_without_positions_still_listed(result: CheckResult) -> None:
    from ocr_fix.triage import mismatch_finding

    r = replace(result, findings=(mismatch_finding(0.05, 2), *result.findings))
    tree = lxml.html.document_fromstring(html.render(r))
    first = css(tree, "article.finding")[0]
    assert first.get("data-kind") == "mismatch"
    assert not css(first, ".tline") and not css(first, "figure.crop")


# --- transcript lines ------------------------------------------------------------------------


def _marks(lines: list[html.LineView]) -> list[str]:
    return [s.text for line in lines for s in line.segments if s.kind == "mark"]


def test_multi_line_span_marks_each_line_part() -> None:
    t = Transcript(Path("t.txt"), "first line here\nsecond line\r\nthird one\n")
    start = t.text.index("here")
    span = t.span(start, t.text.index(" one"))
    assert span.end_line == 3
    lines = html.transcript_lines(t, span)
    assert [line.number for line in lines] == [1, 2, 3]
    assert _marks(lines) == ["here", "second line", "third"]


def test_zero_width_span_gives_an_empty_mark_at_the_gap() -> None:
    t = Transcript(Path("t.txt"), "winter of the year\n")
    lines = html.transcript_lines(t, t.span(7, 7))
    assert [(s.kind, s.text) for s in lines[0].segments] == [
        ("text", "winter "),
        ("mark", ""),
        ("text", "of the year"),
    ]


def test_long_line_is_windowed_around_the_span() -> None:
    text = "a" * 500 + "WORD" + "b" * 500
    t = Transcript(Path("t.txt"), text)
    lines = html.transcript_lines(t, t.span(500, 504))
    kinds = [s.kind for s in lines[0].segments]
    assert kinds == ["gap", "text", "mark", "text", "gap"]
    assert sum(len(s.text) for s in lines[0].segments if s.kind == "text") == 2 * html.LINE_CONTEXT


def test_stale_position_falls_back_to_span_text() -> None:
    t = Transcript(Path("t.txt"), "one line\n")
    span = TranscriptSpan(line=9, column=1, end_column=4, text="xyz", start=100, end=103)
    assert _marks(html.transcript_lines(t, span)) == ["xyz"]


def test_long_multi_line_span_shows_its_ends() -> None:
    t = Transcript(Path("t.txt"), "\n".join(f"line {i}" for i in range(1, 21)) + "\n")
    lines, skipped = html._transcript_view(t, t.span(0, len(t.text) - 1))
    assert [line.number for line in lines] == [1, 2, 19, 20] and skipped == 16


# --- crop geometry ---------------------------------------------------------------------------


def test_crop_region_has_margin_and_context_and_stays_on_the_page() -> None:
    shape = (1000, 800)
    r = html.crop_region(BBox(300, 400, 400, 430), shape)
    assert r.y0 <= 400 - 30 - html.CROP_MARGIN // 4 and r.y1 >= 430 + 30
    assert r.x0 <= 300 - html.CROP_MARGIN and r.x1 >= 400 + html.CROP_MARGIN
    edge = html.crop_region(BBox(0, 980, 60, 1000), shape)
    assert (edge.x0, edge.y1) == (0, 1000)
    off = html.crop_region(BBox(5000, 5000, 5100, 5040), shape)
    assert 0 <= off.x0 < off.x1 <= 800 and 0 <= off.y0 < off.y1 <= 1000


def test_page_sized_box_gives_a_bounded_crop() -> None:
    img = np.full((3300, 2550), 255, np.uint8)
    pic = html.crop_picture(img, BBox(100, 100, 2400, 3100))
    assert pic.width <= html.CROP_MAX_W and pic.height <= html.CROP_MAX_H
    assert decode(pic.uri, "image/png").size == (pic.width, pic.height)


# --- CLI -------------------------------------------------------------------------------------


def test_cli_writes_html_report(tmp_path: Path) -> None:
    transcript = tmp_path / "t.md"
    transcript.write_text("Notes on <b>bold</b> claims & the Geneva meeting.\n", encoding="utf-8")
    out = tmp_path / "report.html"
    res = CliRunner().invoke(
        app, ["check", str(transcript), "--format", "html", "-o", str(out), "--fail-on", "never", "-q"]
    )
    assert res.exit_code == 0, res.output
    text = out.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>")
    assert re.search(r"<title>ocr-fix check: t\.md</title>", text)
    assert not list(tmp_path.glob(".report.html.*"))


def test_page_label_fallback_understands_frame_suffix(tmp_path: Path) -> None:
    assert html._ref_from_label(f"{tmp_path}/doc.pdf#3", 7) == PageRef(tmp_path / "doc.pdf", 2, 7, multi=True)
    assert html._ref_from_label(f"{tmp_path}/01.png", 1) == PageRef(tmp_path / "01.png", 0, 1)
    odd = tmp_path / "scan#2"
    odd.write_bytes(b"")
    assert html._ref_from_label(str(odd), 1) == PageRef(odd, 0, 1)
