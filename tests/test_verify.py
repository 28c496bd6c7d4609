"""The second-reading step (with triage's rule verdicts, ``use_model=False``): agreement
with the transcript or ambiguous glyphs lower a finding; agreement with the scan keeps
it; errors backed by the lexicon stay. Then the second reading's features, one case each."""

from __future__ import annotations

import shutil
from pathlib import Path

from PIL import Image

from ocr_fix.lexicon import Lexicon, Term
from ocr_fix.model import Page, PageRef, Severity
from ocr_fix.ocr.reread import parse_hocr_glyphs, parse_hocr_pages
from ocr_fix.pipeline import CheckOptions, check_pages
from ocr_fix.transcript import Transcript
from tests.fakes import page_from_text

TEXT = "the enemy in order to accomplish the destruction of our strength sent Konoye bore gifts"
LEX = Lexicon.build([Term("Konoye", "name")])


class Reader:
    """Answers every line with ``words`` (text -> alternatives per glyph)."""

    def __init__(self, line: str, alts: dict[int, dict[str, float]] | None = None) -> None:
        self.line, self.alts, self.calls = line, alts or {}, 0

    def read_lines(self, requests):
        self.calls += 1
        out, pos = [], 0
        for word in self.line.split():
            glyphs = [(c, dict(self.alts.get(pos + i, {}))) for i, c in enumerate(word)]
            out.append((word, glyphs))
            pos += len(word) + 1
        return [[out for _ in boxes] for _, boxes in requests]


def _run(transcript: str, page: str, reader) -> list:
    t = Transcript(path=Path("t.txt"), text=transcript, kind="text")
    r = check_pages(t, [page_from_text(page, 1)], LEX, CheckOptions(reader=reader, use_model=False))
    return list(r.findings)


def test_second_reading_agreeing_with_the_transcript_lowers_the_warning():
    scan = TEXT.replace("bore", "bare")
    (f,) = _run(TEXT, scan, Reader(TEXT))
    assert f.severity is Severity.INFO and f.feature("second_agrees_transcript") == 1


def test_second_reading_agreeing_with_the_scan_keeps_the_warning():
    transcript = TEXT.replace("in order", "is order")
    (f,) = _run(transcript, TEXT, Reader(TEXT))
    assert f.severity is Severity.WARNING and f.feature("second_agrees_ocr") == 1


def test_ambiguous_glyph_lowers_a_warning():
    scan = TEXT.replace("bore", "bare")
    at = scan.index(" bare ") + 2
    (f,) = _run(TEXT, scan, Reader(scan, {at: {"a": 90.0, "o": 40.0}}))
    assert f.severity is Severity.INFO and f.feature("glyph_doubt") == 1


def test_unambiguous_glyph_keeps_the_warning():
    scan = TEXT.replace("bore", "bare")
    at = scan.index(" bare ") + 2
    (f,) = _run(TEXT, scan, Reader(scan, {at: {"a": 90.0, "o": 0.0}}))
    assert f.severity is Severity.WARNING


def test_lexicon_errors_are_not_lowered_by_doubt():
    transcript = TEXT.replace("Konoye", "Kenoye")
    at = TEXT.index("Konoye") + 1
    (f,) = _run(transcript, TEXT, Reader(TEXT, {at: {"o": 90.0, "e": 50.0}}))
    assert f.severity is Severity.ERROR


def test_no_reader_no_second_reading():
    scan = TEXT.replace("bore", "bare")
    t = Transcript(path=Path("t.txt"), text=TEXT, kind="text")
    (f,) = check_pages(t, [page_from_text(scan, 1)], LEX, CheckOptions(use_model=False)).findings
    assert f.severity is Severity.WARNING


def test_hocr_glyph_alternatives_are_parsed():
    hocr = """<html><body><span class='ocrx_word' id='w1' title='bbox 0 0 10 10'>
      <span class='ocrx_cinfo' title='x_bboxes 0 0 5 10; x_conf 90'>h</span>
      <span class='ocrx_cinfo' id='lstm_choices_1'>
        <span class='ocrx_cinfo' id='c1' title='x_confs 88.5'>h</span>
        <span class='ocrx_cinfo' id='c2' title='x_confs 41.0'>b</span></span>
      <span class='ocrx_cinfo' title='x_bboxes 5 0 10 10; x_conf 99'>e</span>
    </span></body></html>"""
    ((text, glyphs),) = parse_hocr_glyphs(hocr)
    assert text == "he" and glyphs[0] == ("h", {"h": 88.5, "b": 41.0}) and glyphs[1] == ("e", {})


def test_lexicon_backed_errors_are_not_read_again():
    reader = Reader(TEXT)
    (f,) = _run(TEXT.replace("Konoye", "Kenoye"), TEXT, reader)
    assert f.severity is Severity.ERROR and reader.calls == 0


def _run_conf(transcript: str, page: str, reader, conf: dict[str, float]) -> list:
    t = Transcript(path=Path("t.txt"), text=transcript, kind="text")
    r = check_pages(
        t, [page_from_text(page, 1, conf=conf)], LEX, CheckOptions(reader=reader, use_model=False)
    )
    return list(r.findings)


def test_low_confidence_reading_confirmed_by_a_second_one_counts():
    transcript = TEXT.replace("Konoye", "Kenoye")
    (f,) = _run_conf(transcript, TEXT, Reader(TEXT), {"Konoye": 20.0})
    assert f.severity is Severity.ERROR and f.feature("second_agrees_ocr") == 1


def test_low_confidence_reading_not_confirmed_stays_info():
    transcript = TEXT.replace("Konoye", "Kenoye")
    (f,) = _run_conf(transcript, TEXT, Reader(TEXT.replace("Konoye", "Kcnoyc")), {"Konoye": 20.0})
    assert f.severity is Severity.INFO and f.feature("second_contradicts_both") == 1


def test_second_reading_of_a_lexicon_term_confirms_a_garbled_first_one():
    transcript = TEXT.replace("Konoye", "Kenoye")
    scan = TEXT.replace("Konoye", "Kon oye")
    (f,) = _run_conf(transcript, scan, Reader(TEXT), {"Kon": 25.0, "oye": 25.0})
    assert f.severity is Severity.ERROR and f.suggestion == "Konoye"


def test_warning_without_a_second_reading_to_back_it_is_lowered():
    transcript = TEXT.replace("in order", "is order")
    (f,) = _run(transcript, TEXT, Reader(TEXT.replace("in order", "im order")))
    assert f.severity is Severity.INFO and f.feature("second_contradicts_both") == 1


def test_multi_page_hocr_is_split_by_page_number():
    page = """<div class='ocr_page' id='page_{n}' title='image "x"; bbox 0 0 9 9; ppageno {p}'>
      <span class='ocrx_word' id='w{n}' title='bbox 0 0 9 9'>{text}</span></div>"""
    # Pages out of order, one missing: each lands at its ppageno, the gap reads as nothing.
    hocr = (
        "<html><body>"
        + page.format(n=1, p=2, text="third")
        + page.format(n=2, p=0, text="first")
        + "</body></html>"
    )
    assert [[w for w, _ in line] for line in parse_hocr_pages(hocr, 3)] == [["first"], [], ["third"]]
    assert parse_hocr_pages("", 2) == [[], []]


def test_tesseract_reader_reads_lines_of_several_pages_in_one_go_and_caches(tmp_path):
    """One call for every page's lines; answers per page, per box, in order; a second
    call is served from the cache without running Tesseract."""
    from ocr_fix.model import BBox
    from ocr_fix.ocr.cache import OcrCache
    from ocr_fix.ocr.reread import TesseractLineReader
    from ocr_fix.ocr.tesseract import TesseractEngine

    binary = tmp_path / "fake-tesseract"
    # Stand-in Tesseract: one hOCR page per listed image, reading "w<index>" on each.
    binary.write_text(
        "#!/bin/sh\n"
        'case "$1" in --version) echo "tesseract 9.9.9-fake"; exit 0;;\n'
        '  --list-langs) echo "List of available languages (1):"; echo eng; exit 0;; esac\n'
        'in="$1"; out="$2"; n=0\n'
        'case "$in" in *.txt) list=$(cat "$in");; *) list="$in";; esac\n'
        '{ echo "<html><body>"; for f in $list; do\n'
        "  echo \"<div class='ocr_page' title='ppageno $n'><span class='ocrx_word'>w$n</span></div>\"\n"
        '  n=$((n+1)); done; echo "</body></html>"; } > "$out.hocr"\n'
        'echo $n >> "' + str(tmp_path / "runs") + '"\n'
    )
    binary.chmod(0o755)
    pages = []
    for n in (1, 2):
        Image.new("L", (200, 100), 255).save(tmp_path / f"{n}.png")
        pages.append(Page(PageRef(tmp_path / f"{n}.png", 0, n), 200, 100, ()))
    reader = TesseractLineReader(TesseractEngine(binary=str(binary)), OcrCache(tmp_path / "cache"))
    requests = [(pages[0], [BBox(0, 0, 50, 20), BBox(0, 30, 50, 50)]), (pages[1], [BBox(0, 0, 60, 20)])]
    got = reader.read_lines(requests)
    assert [[[w for w, _ in line] for line in page] for page in got] == [[["w0"], ["w1"]], [["w2"]]]
    assert (tmp_path / "runs").read_text().split() == ["3"]
    assert reader.read_lines(requests) == got
    assert (tmp_path / "runs").read_text().split() == ["3"]


def test_second_readings_see_the_same_line_crops_from_the_run_s_decoded_pages(tmp_path):
    """The line crops cut from a run's kept pages (memory maps of their rows) are the
    pixels cut from the pages decoded afresh, and exactly what :func:`crop_line` cuts on
    this thread: the images Tesseract is given are equal. (That the crops no longer
    depend on timing, see read_lines, is not something a test can provoke reliably.)"""
    import cv2
    import numpy as np

    from ocr_fix.model import BBox
    from ocr_fix.ocr.reread import TesseractLineReader, crop_line, upright
    from ocr_fix.ocr.tesseract import TesseractEngine
    from ocr_fix.scans import decoded_pages

    binary = tmp_path / "fake-tesseract"
    # Stand-in Tesseract: keeps a copy of every image it is given, reads nothing.
    seen = tmp_path / "seen"
    binary.write_text(
        "#!/bin/sh\n"
        'case "$1" in --version) echo "tesseract 9.9.9-fake"; exit 0;;\n'
        '  --list-langs) echo "List of available languages (1):"; echo eng; exit 0;; esac\n'
        'case "$1" in *.txt) list=$(cat "$1");; *) list="$1";; esac\n'
        f'for f in $list; do cp "$f" "{seen}/$(basename "$(dirname "$f")")-$(basename "$f")"; done\n'
        'echo "<html></html>" > "$2.hocr"\n'
    )
    binary.chmod(0o755)
    rng = np.random.default_rng(5)
    requests = []
    for n in range(1, 5):
        Image.fromarray(rng.integers(0, 256, (400, 1500), dtype=np.uint8)).save(tmp_path / f"p{n}.png")
        page = Page(PageRef(tmp_path / f"p{n}.png", 0, n), 1500, 400, ())
        requests.append((page, [BBox(5, 10, 1450, 60), BBox(0, 330, 1500, 400), BBox(100, 120, 1390, 190)]))
    expected = [
        upright(crop_line(np.asarray(Image.open(page.ref.path)), b), page)
        for page, boxes in requests
        for b in boxes
    ]
    engine = TesseractEngine(binary=str(binary))
    for run in ("fresh", "kept"):
        seen.mkdir()
        if run == "fresh":
            TesseractLineReader(engine).read_lines(requests)
        else:
            with decoded_pages() as decoded:
                kept = engine.with_decoded_pages(decoded)
                for page, _ in requests:
                    kept.load(page.ref)  # as the page OCR leaves them
                TesseractLineReader(kept).read_lines(requests)
        given = [cv2.imread(str(f), cv2.IMREAD_UNCHANGED) for f in seen.iterdir()]
        # The same images (in some order: the chunks' processes run side by side).
        assert sorted(g.tobytes() for g in given) == sorted(e.tobytes() for e in expected), run
        shutil.rmtree(seen)


# ---- the second reading's features, one case each --------------------------------


def _sub(t: str, o: str, suggestion: str | None = None, **features: float):
    from ocr_fix.model import BBox, Finding, Kind, ScanSpan, TranscriptSpan

    return Finding(
        Severity.WARNING,
        Kind.SUBSTITUTION,
        TranscriptSpan(1, 1, 1 + len(t), t, 0, len(t)),
        ScanSpan(1, 1, o, 96.0, BBox(0, 0, 10, 10)),
        o if suggestion is None else suggestion,
        "m",
        tuple(features.items()),
    )


def _words(text: str):
    return [(w, [(c, {}) for c in w]) for w in text.split()]


def test_a_second_reading_differing_only_in_punctuation_or_spacing_agrees():
    from ocr_fix.verify import second_features

    f = second_features(_sub("from", "form"), _words("form."), LEX)
    assert f["second_agrees_ocr"] == 1 and f["second_contradicts_both"] == 0
    f = second_features(_sub("war", "was"), _words("was ,"), LEX)
    assert f["second_agrees_ocr"] == 1


def test_a_non_word_one_letter_off_the_first_reading_agrees_with_it():
    from ocr_fix.verify import second_features

    f = second_features(_sub("tho", "the"), _words("tbe"), LEX)
    assert f["second_agrees_ocr"] == 1 and f["second_agrees_transcript"] == 0


def test_a_second_reading_contradicting_both_sides_says_so():
    from ocr_fix.verify import second_features

    f = second_features(_sub("1921", "1927"), _words("1989"), LEX)
    assert f["second_contradicts_both"] == 1 and f["second_agrees_ocr"] == 0


def test_a_second_reading_of_the_transcripts_text_agrees_with_it():
    from ocr_fix.verify import second_features

    f = second_features(_sub("bore", "bare"), _words("Bore"), LEX)
    assert f["second_agrees_transcript"] == 1 and f["second_agrees_ocr"] == 0


def test_a_case_only_finding_compares_exactly():
    from ocr_fix.verify import second_features

    f = second_features(_sub("Government", "government", case_only=1.0), _words("Government"), LEX)
    assert f["second_agrees_transcript"] == 1


def test_a_second_reading_of_a_lexicon_term_and_glyph_doubt():
    from ocr_fix.verify import second_features

    f = second_features(_sub("Kenoye", "Kcnoyc"), _words("Konoye"), LEX)
    assert f["second_is_lexicon"] == 1
    doubt = [("bare", [("b", {}), ("a", {"o": 40.0}), ("r", {}), ("e", {})])]
    f = second_features(_sub("bore", "bare"), doubt, LEX)
    assert f["glyph_doubt"] == 1
