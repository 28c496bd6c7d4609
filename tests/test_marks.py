"""ocr_fix.marks: the ink after a word, set against the page's own marks.

Pages are drawn with OpenCV's Hershey font (no Tesseract): each word's box is the tight
box of its own ink, as an OCR engine draws it."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from ocr_fix.marks import (
    NO_INK,
    Ink,
    MarkClass,
    MarkReader,
    mark_evidence,
    measure,
    page_model,
    trailing_marks,
)
from ocr_fix.model import BBox, Finding, Kind, Page, PageRef, ScanSpan, Severity, TranscriptSpan, Word

FONT, SCALE, THICK = cv2.FONT_HERSHEY_SIMPLEX, 1.4, 3
WORDS = ["letter", "office", "manner", "reply", "against", "during", "embassy", "matter", "would", "whole"]


def _draw(canvas: np.ndarray, text: str, x: int, baseline: int, ink: int) -> None:
    """``text`` at ``x`` on ``baseline``; a closing full stop or comma drawn as a
    typewriter strikes it (the Hershey comma hardly has a tail): a round dot on the
    baseline, for a comma with a tail reaching below it."""
    word, mark = (text[:-1], text[-1]) if text[-1] in ".," else (text, "")
    cv2.putText(canvas, word, (x, baseline), FONT, SCALE, ink, THICK)
    if not mark:
        return
    (width, _), _ = cv2.getTextSize(word, FONT, SCALE, THICK)
    dot = (x + width + 7, baseline - 4)
    cv2.circle(canvas, dot, 4, ink, -1)
    if mark == ",":
        cv2.line(canvas, (dot[0] + 2, dot[1]), (dot[0] - 3, baseline + 9), ink, 3)


def _ink_box(text: str, x: int, baseline: int, shape: tuple[int, int]) -> BBox:
    canvas = np.zeros(shape, np.uint8)
    _draw(canvas, text, x, baseline, 255)
    ys, xs = np.nonzero(canvas)
    return BBox(int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1)


def draw_page(lines: list[list[str]], speck: tuple[int, int] | None = None) -> tuple[np.ndarray, Page]:
    """A white page with ``lines`` of words and their OCR words (confidence 95); a
    ``speck`` (x, y) of ink where given."""
    shape = (90 * len(lines) + 60, 1400)
    gray = np.full(shape, 255, np.uint8)
    words: list[Word] = []
    for n, line in enumerate(lines, start=1):
        x, baseline = 30, 70 + 90 * (n - 1)
        for text in line:
            _draw(gray, text, x, baseline, 0)
            box = _ink_box(text, x, baseline, shape)
            words.append(Word(text, box, 95.0, n))
            x = box.x1 + 30
    if speck is not None:
        cv2.circle(gray, speck, 4, 0, -1)
    return gray, Page(PageRef(Path("page.png"), 0, 1), shape[1], shape[0], tuple(words))


def reference_lines() -> list[list[str]]:
    """Lines with as many full stops, commas and unpunctuated words as a page has."""
    out = []
    for k in range(6):
        ws = WORDS[k:] + WORDS[:k]
        out.append([ws[0] + ".", ws[1], ws[2] + ",", ws[3], ws[4] + ".", ws[5] + ","])
    return out


def test_trailing_marks() -> None:
    assert trailing_marks("word.") == "."
    assert trailing_marks("word") == ""
    assert trailing_marks("etc.,") == ".,"
    assert trailing_marks("") == ""


def test_a_comma_reaches_below_the_baseline_and_a_full_stop_does_not() -> None:
    gray, page = draw_page(reference_lines())
    unit = float(np.median([w.box.height for w in page.words]))
    by_text = {w.text: w for w in page.words}
    stop = measure(gray, by_text["letter."].box, page.width, unit)
    comma = measure(gray, by_text["manner,"].box, page.width, unit)
    bare = measure(gray, by_text["office"].box, by_text["manner,"].box.x0, unit)
    assert stop is not None and comma is not None and bare is not None
    assert stop.parts == 1 and comma.parts == 1
    assert comma.depth > stop.depth + 0.2
    assert bare == NO_INK


def test_the_page_knows_its_marks() -> None:
    gray, page = draw_page(reference_lines())
    model = page_model(page, gray)
    assert model is not None
    assert model.knows(".") and model.knows(",") and model.knows("")
    assert not model.knows(";")  # none on the page
    stop = Ink(1, 0.0, 0.2, 0.2, 0.03, 0.1)
    assert model.log_likelihood(stop, ".") > model.log_likelihood(stop, ",")
    assert model.log_likelihood(NO_INK, "") > model.log_likelihood(NO_INK, ".")


def test_too_few_words_say_nothing() -> None:
    gray, page = draw_page([["one.", "two,"]])
    assert page_model(page, gray) is None


def _finding(page: Page, word: Word, transcript: str) -> Finding:
    span = TranscriptSpan(1, 1, 1 + len(transcript), transcript, 0, len(transcript))
    return Finding(
        Severity.INFO,
        Kind.SUBSTITUTION,
        span,
        ScanSpan(page.ref.number, word.line, word.text, word.conf, word.box),
        word.text,
        "",
        (("punct_only", 1.0),),
    )


@pytest.mark.parametrize(
    ("transcript", "scan", "sign"),
    [
        ("letter", "letter.", 1),  # the scan's full stop is on the page: the transcript dropped it
        ("letter,", "letter.", 1),  # a full stop, not a comma
        ("manner.", "manner,", 1),  # a comma, not a full stop
        ("office.", "office", 1),  # no ink after it: the transcript added one
    ],
)
def test_the_image_sides_with_the_mark_it_shows(transcript: str, scan: str, sign: int) -> None:
    gray, page = draw_page(reference_lines())
    word = next(w for w in page.words if w.text == scan)
    (f,) = mark_evidence([_finding(page, word, transcript)], [page], MarkReader(lambda p: gray))
    assert f.feature("mark_scored") == 1.0
    assert sign * f.feature("mark_llr") > 2.0


def test_a_speck_where_a_full_stop_would_be_is_weighed_against_the_page_own_stops() -> None:
    """A round speck high above the baseline is no full stop of this page's."""
    lines = reference_lines()
    gray, page = draw_page(lines)
    word = next(w for w in page.words if w.text == "office")
    speck = (word.box.x1 + 14, word.box.y0 + 4)
    gray, page = draw_page(lines, speck)
    read = Word("office.", BBox(word.box.x0, word.box.y0, speck[0] + 5, word.box.y1), 60.0, word.line)
    (f,) = mark_evidence([_finding(page, read, "office")], [page], MarkReader(lambda p: gray))
    assert f.feature("mark_scored") == 1.0
    assert f.feature("mark_llr") < 0


def test_only_mark_differences_are_measured() -> None:
    gray, page = draw_page(reference_lines())
    word = next(w for w in page.words if w.text == "letter.")
    unmarked = _finding(page, word, "latter.")  # a letter differs
    other = _finding(page, word, "letter;")  # no semicolon on the page to compare with
    plain = _finding(page, word, "letter").with_features(punct_only=0.0)  # not marks only
    for f in mark_evidence([unmarked, other, plain], [page], MarkReader(lambda p: gray)):
        assert not f.has("mark_scored")


@settings(max_examples=40, deadline=None)
@given(
    st.integers(0, 1399),
    st.integers(0, 599),
    st.integers(-50, 1500),
    st.integers(-50, 700),
    st.integers(1, 80),
)
@example(x0=0, y0=2, x1=0, y1=-10, limit=2)  # an inverted box: once a ValueError on no rows
def test_measure_never_fails_on_any_box(x0: int, y0: int, x1: int, y1: int, limit: int) -> None:
    rng = np.random.default_rng(x0 + y0)
    gray = rng.integers(0, 256, (600, 1400), dtype=np.uint8)
    ink = measure(gray, BBox(x0, y0, x1, y1), x1 + limit, 30.0)
    assert ink is None or ink.parts >= 0


def test_a_misread_word_has_its_marks_judged_apart() -> None:
    """``lettor.`` against the transcript's ``letter``: triage judges the marks apart
    (``letters_misread``), so the image's say on the full stop counts; without that
    flag a word whose letters differ too is left alone."""
    gray, page = draw_page(reference_lines())
    word = next(w for w in page.words if w.text == "letter.")
    read = Word("lettor.", word.box, 80.0, word.line)
    misread = _finding(page, read, "letter").with_features(letters_misread=1.0)
    (f, g) = mark_evidence([misread, _finding(page, read, "letter")], [page], MarkReader(lambda p: gray))
    assert f.feature("mark_scored") == 1.0 and f.feature("mark_llr") > 2.0
    assert not g.has("mark_scored")


def test_a_page_s_answers_are_cached_so_a_rerun_reads_no_image(tmp_path: Path) -> None:
    from ocr_fix.ocr.cache import OcrCache

    gray, page = draw_page(reference_lines())
    (tmp_path / "page.png").write_bytes(cv2.imencode(".png", gray)[1].tobytes())
    page = Page(PageRef(tmp_path / "page.png", 0, 1), page.width, page.height, page.words)
    word = next(w for w in page.words if w.text == "letter.")
    reads: list[int] = []

    def image(p: Page) -> np.ndarray:
        reads.append(p.number)
        return gray

    reader = MarkReader(image, OcrCache(tmp_path / "cache"))
    first = mark_evidence([_finding(page, word, "letter")], [page], reader)
    again = mark_evidence([_finding(page, word, "letter")], [page], reader)
    assert reads == [1]
    assert first == again and first[0].feature("mark_llr") > 2.0
    other = mark_evidence([_finding(page, word, "letter,")], [page], reader)  # another question
    assert reads == [1, 1] and other[0].has("mark_scored")


def test_a_mark_the_page_lacks_is_judged_on_the_document_s_pages_pooled() -> None:
    """A page with no comma of its own: its ``letter,`` against the transcript's
    ``letter.`` is judged on the commas of the document's other page."""
    gray1, page1 = draw_page(reference_lines())
    lines = [[w.rstrip(",") for w in line] for line in reference_lines()]
    lines[0][0] = "letter,"  # the one comma of page 2
    gray2, page2 = draw_page(lines)
    page2 = Page(PageRef(Path("page2.png"), 0, 2), page2.width, page2.height, page2.words)
    alone = page_model(page2, gray2)
    assert alone is not None and not alone.knows(",")
    word1 = next(w for w in page1.words if w.text == "manner.")
    word2 = next(w for w in page2.words if w.text == "letter,")
    images = {1: gray1, 2: gray2}
    f1, f2 = mark_evidence(  # page 1 is asked too, so it is read and pooled
        [_finding(page1, word1, "manner,"), _finding(page2, word2, "letter.")],
        [page1, page2],
        MarkReader(lambda p: images[p.number]),
    )
    assert f1.feature("mark_llr") > 2.0  # a comma on page 1, where commas are known
    assert f2.feature("mark_scored") == 1.0 and f2.feature("mark_llr") > 2.0
    (only,) = mark_evidence([_finding(page2, word2, "letter.")], [page2], MarkReader(lambda p: gray2))
    assert not only.has("mark_scored")  # without page 1 nobody knows a comma


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.lists(st.floats(-2, 2), min_size=5, max_size=5), max_size=8),
    st.lists(st.lists(st.floats(-2, 2), min_size=5, max_size=5), max_size=8),
)
def test_pooled_classes_are_the_classes_of_all_their_ink(a: list[list[float]], b: list[list[float]]) -> None:
    va, vb = [np.array(v) for v in a], [np.array(v) for v in b]
    merged = MarkClass.of(len(va) + 1, va).merged(MarkClass.of(len(vb) + 2, vb))
    whole = MarkClass.of(len(va) + len(vb) + 3, va + vb)
    assert (merged.words, merged.inked) == (whole.words, whole.inked)
    assert np.allclose(merged.mean, whole.mean) and np.allclose(merged.m2, whole.m2, atol=1e-9)


def test_a_full_stop_read_as_a_letter_is_still_ink_after_the_word() -> None:
    """``lettere``: the OCR read the full stop of ``letter.`` as one more letter. Against
    the transcript's ``letter`` the ink speaks for a mark; a real last letter (``lettera``
    against ``letter``) says nothing either way."""
    gray, page = draw_page(reference_lines())
    word = next(w for w in page.words if w.text == "letter.")
    dot = Word("lettere", word.box, 70.0, word.line)
    (f,) = mark_evidence(
        [_finding(page, dot, "letter").with_features(punct_only=0.0)], [page], MarkReader(lambda p: gray)
    )
    assert f.feature("mark_llr") > 2.0
    plain = next(w for w in page.words if w.text == "office")
    extra = Word("officea", plain.box, 70.0, plain.line)
    (g,) = mark_evidence([_finding(page, extra, "office")], [page], MarkReader(lambda p: gray))
    assert g.feature("mark_scored") == 1.0 and g.feature("mark_llr") == 0.0


def test_a_page_without_pixels_or_gone_has_nothing_to_measure(tmp_path: Path) -> None:
    """An engine with no page images (``OcrEngine.load`` None) and a page that cannot be
    read any more leave the findings as they were; nothing is cached for them."""
    from ocr_fix.errors import InputNotFound
    from ocr_fix.ocr.cache import OcrCache

    gray, page = draw_page(reference_lines())
    (tmp_path / "page.png").write_bytes(cv2.imencode(".png", gray)[1].tobytes())
    page = Page(PageRef(tmp_path / "page.png", 0, 1), page.width, page.height, page.words)
    word = next(w for w in page.words if w.text == "letter.")
    cache = OcrCache(tmp_path / "cache")

    def gone(p: Page) -> np.ndarray:
        raise InputNotFound(p.ref.path)

    for image in (lambda p: None, gone):
        (f,) = mark_evidence([_finding(page, word, "letter")], [page], MarkReader(image, cache))
        assert not f.has("mark_scored")
    assert not list((tmp_path / "cache").rglob("*.json"))
    missing = Page(PageRef(tmp_path / "missing.png", 0, 1), page.width, page.height, page.words)
    (f,) = mark_evidence([_finding(missing, word, "letter")], [missing], MarkReader(lambda p: gray, cache))
    assert not f.has("mark_scored")
