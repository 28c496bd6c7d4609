"""Hard scans on synthetic pages: marks (borders, bars, holes, stamp frames), orientation,
skew up to 10 degrees, the coordinate mapping back, and the choice of readings."""

from __future__ import annotations

import json
import math
import shutil
from dataclasses import replace

import cv2
import numpy as np
import pytest
from typer.testing import CliRunner

from ocr_fix.cli import app
from ocr_fix.errors import OcrFailed
from ocr_fix.model import BBox, Page, PageRef, Word
from ocr_fix.ocr.formats import page_from_json, page_to_json
from ocr_fix.ocr.tesseract import parse_osd
from ocr_fix.orientation import is_sideways, is_upside_down, map_back, turn
from ocr_fix.pagefix import find_marks
from ocr_fix.readings import covered, measure, read_page, reads_as_text, went_wrong
from ocr_fix.scans import (
    Prepared,
    Preprocess,
    _components,
    _downsized,
    _ink_mask,
    _letter_height,
    despeckle,
    estimate_skew,
    map_point_back,
    prepare,
    rotate_expand,
)
from ocr_fix.synth import Degrade, SynthSettings, read_gt, render_page
from tests.conftest import ROOT

HAVE_TESSERACT = shutil.which("tesseract") is not None
LINES = (
    "It is worthy of note that the movement of troops",
    "had been reported to the Foreign Minister before",
    "the Ambassador called on him at the Ministry and",
    "asked that the matter be settled without delay.",
)


def _page(width: int = 1400, height: int = 1800, top: int = 160, lines: int = 24) -> np.ndarray:
    """A typed-looking page: Hershey text lines, 300-dpi-like letter size (~22 px)."""
    img = np.full((height, width), 235, np.uint8)
    y = top
    for i in range(lines):
        cv2.putText(img, LINES[i % len(LINES)], (150, y), cv2.FONT_HERSHEY_SIMPLEX, 1.0, 30, 2, cv2.LINE_AA)
        y += 48
    return img


def _quiet(**changes: object) -> Preprocess:
    return Preprocess(**{"denoise": False, "adaptive": False, **changes})  # type: ignore[arg-type]


# --- marks -------------------------------------------------------------------------------


def _marked_page() -> tuple[np.ndarray, tuple[int, int, int, int]]:
    page = _page(top=260, lines=20)
    page[:, :45] = 20  # scanner bed down the left edge
    page[:30, :] = 25  # and along the top
    bar = (560, 420, 980, 466)  # a redaction bar over (part of) the fifth line
    cv2.rectangle(page, bar[:2], (bar[2] - 1, bar[3] - 1), 10, -1)
    cv2.circle(page, (95, 900), 32, 20, -1)  # a punch hole in the margin
    cv2.rectangle(page, (800, 1320), (1250, 1480), 60, 6)  # a stamp's frame
    return page, bar


def test_border_bar_and_hole_are_painted_over_the_bar_reported_and_a_frame_left():
    page, bar = _marked_page()
    p = prepare(page, _quiet(deskew=False, upscale=False, orient=False))
    assert p.marks == 3  # the joined left and top border, the bar, the hole
    ((x0, y0, x1, y1),) = p.redactions
    # Within a few pixels: a letter touching the bar's end leaves a stub on it.
    assert max(abs(x0 - bar[0]), abs(y0 - bar[1]), abs(x1 - bar[2]), abs(y1 - bar[3])) <= 8
    out = p.image
    for region in (
        out[:, :40],
        out[:25, :],
        out[425:462, 600:950],
        out[880:920, 75:115],
    ):
        assert region.min() > 200  # paper now
    # A stamp's frame stays: it keeps the stamp's lettering from being read as a text line.
    assert out[1317:1326, 850:1200].min() < 100
    labels, stats = _components(_ink_mask(page))
    assert find_marks(page, labels, stats, _letter_height(stats, page.shape[0])).frames == 1
    # The type is untouched: as much ink in the text block as before (bar rows aside).
    text_rows = slice(200, 410)
    assert (out[text_rows, 150:1300] < 128).sum() == (page[text_rows, 150:1300] < 128).sum()


def test_shaded_paper_and_letters_are_no_marks():
    page = _page()
    shade = np.linspace(1.0, 0.7, page.shape[1], dtype=np.float32)[None, :]
    shaded = (page.astype(np.float32) * shade).astype(np.uint8)
    p = prepare(shaded, _quiet(deskew=False, upscale=False, orient=False))
    assert p.marks == 0 and p.redactions == ()
    assert np.array_equal(p.image, shaded)


def test_a_small_image_with_few_letters_is_not_masked():
    img = np.full((260, 900), 255, np.uint8)
    cv2.putText(img, "Special Envoy Konoye", (30, 90), cv2.FONT_HERSHEY_COMPLEX, 1.3, 0, 2)
    assert prepare(img).marks == 0


def test_despeckle_drops_lone_specks_and_keeps_type_and_its_full_stops():
    page = np.full((400, 900), 255, np.uint8)
    cv2.putText(page, "Its end.", (40, 200), cv2.FONT_HERSHEY_SIMPLEX, 2.0, 0, 4)
    noisy = page.copy()
    rng = np.random.default_rng(1)
    for x, y in zip(rng.integers(0, 900, 60), rng.integers(300, 400, 60), strict=True):
        cv2.circle(noisy, (int(x), int(y)), 2, 0, -1)
    clean = despeckle(noisy, letter=48.0)
    assert (clean[300:, :] == 0).sum() == 0
    assert np.array_equal(clean[:300], page[:300])


# --- orientation and skew ------------------------------------------------------------------


@pytest.mark.parametrize("rotation", [0, 90, 180, 270])
def test_ink_shape_tests_tell_which_way_up(rotation):
    page = turn(_page(), rotation)
    mask = _downsized(_ink_mask(page), 1000)
    sideways = is_sideways(_downsized(mask, 500).astype(np.float32))
    assert sideways == (rotation in (90, 270))
    level = turn(mask, 90) if sideways else mask
    # Turned back by 90 the page is upright or upside down; which is the second test's job.
    letter = 22 * 1000 / max(page.shape)  # capitals of about 22 px, in the downsized mask
    assert (
        is_upside_down(level, letter) == (rotation in (90, 180))
        if sideways
        else is_upside_down(level, letter) == (rotation == 180)
    )


@pytest.mark.parametrize("rotation", [90, 180, 270])
def test_prepare_turns_a_turned_page_upright(rotation):
    page = _page()
    p = prepare(turn(page, rotation), _quiet(upscale=False))
    assert p.guess == (360 - rotation) % 360 == p.rotation
    assert p.image.shape == page.shape and p.angle == 0.0


@pytest.mark.parametrize("angle", [-10.0, -6.5, 4.0, 9.5])
def test_skew_up_to_ten_degrees_comes_out_straight(angle):
    tilted = rotate_expand(_page(), angle, fill=235)
    p = prepare(tilted, _quiet(upscale=False, orient=False))
    assert abs(p.angle + angle) < 0.2
    assert abs(estimate_skew(p.image, max_angle=10.0)) < 0.2
    # The whole page is kept: the canvas grew to hold the corners.
    assert p.image.shape[0] >= tilted.shape[0] and p.image.shape[1] >= tilted.shape[1]


def test_map_point_back_undoes_skew_on_a_grown_canvas_upscale_and_quarter_turn():
    h0, w0 = 300, 200
    rotation, scale, angle = 90, 2.0, 7.0
    th, tw = int(w0 * scale), int(h0 * scale)  # turned 90: height and width swap
    a = math.radians(angle)
    width = math.ceil(tw * abs(math.cos(a)) + th * abs(math.sin(a)))
    height = math.ceil(th * abs(math.cos(a)) + tw * abs(math.sin(a)))
    m = cv2.getRotationMatrix2D((tw / 2, th / 2), angle, 1.0)
    m[0, 2] += (width - tw) / 2
    m[1, 2] += (height - th) / 2
    prepared = Prepared(
        image=np.zeros((height, width), np.uint8),
        scale=scale,
        angle=angle,
        rotation=rotation,
        original=(h0, w0),
        inner=(th, tw),
    )
    for x, y in ((10.0, 20.0), (150.0, 250.0), (199.0, 1.0)):
        tx, ty = y, w0 - x  # np.rot90 once, in continuous coordinates
        px, py = m @ np.array([tx * scale, ty * scale, 1.0])
        bx, by = map_point_back(px, py, prepared, (height, width))
        assert math.isclose(bx, x, abs_tol=1e-6) and math.isclose(by, y, abs_tol=1e-6)


@pytest.mark.parametrize("rotation", [90, 180, 270])
def test_map_back_inverts_turn(rotation):
    img = np.zeros((5, 8))
    img[1, 6] = 1
    y, x = np.argwhere(turn(img, rotation))[0]
    assert map_back(x + 0.5, y + 0.5, rotation, (5, 8)) == (6.5, 1.5)


# --- readings ------------------------------------------------------------------------------


def _words(texts: list[str], conf: float = 95.0, y: int = 10) -> tuple[Word, ...]:
    return tuple(Word(t, BBox(20 * i, y, 20 * i + 18, y + 10), conf, 1) for i, t in enumerate(texts))


def test_measure_counts_known_words_and_penalises_junk():
    known = {"the", "war", "ended"}.__contains__
    good = measure(_words(["the", "war", "ended", "1945"]), known)
    junk = measure(_words(["the", "|", "_~", "wxq"]), known)
    assert good.known_share == 1.0 and good.score > junk.score
    assert junk.known_share == pytest.approx(3 / 6)
    assert measure(_words(["the", "war"]), None).known_share is None


def test_covered_is_the_share_of_letter_marks_inside_word_boxes():
    spots = np.array([[5.0, 15.0], [25.0, 15.0], [300.0, 300.0], [310.0, 300.0]], np.float32)
    assert covered(spots, _words(["ab", "cd"])) == 0.5


def test_marks_outside_the_words_count_as_missed_only_in_rows():
    """Letters of a word the reading lost lie side by side on a line; specks lie apart."""
    inside = [[5.0 + 2 * i, 15.0] for i in range(8)]  # under the first word's box
    row = [[300.0 + 12 * i, 300.0] for i in range(4)]  # a lost word: 4 marks 12 px apart
    specks = [[600.0, 100.0], [100.0, 500.0], [700.0, 700.0], [640.0, 330.0]]  # apart
    spots = np.array(inside + row + specks, np.float32)
    words = _words(["abcd"])
    assert covered(spots, words) == 0.5  # without a letter height: every mark outside counts
    assert covered(spots, words, letter=20.0) == pytest.approx(1.0 - 4 / 16)  # the row only
    assert covered(spots[:12], words, letter=20.0) == pytest.approx(covered(spots[:12], words))
    # A speck beside a lost row joins it (it is within reach): still missed text.
    assert (
        covered(np.vstack([spots, [[348.0, 302.0]]]).astype(np.float32), words, letter=20.0) == 1.0 - 5 / 17
    )


def test_went_wrong_only_on_pages_with_enough_text():
    spots = np.array([[x, 15.0] for x in range(0, 400, 2)], np.float32)  # 200 marks, all under words
    words = _words([f"w{i}" for i in range(20)], conf=95.0)
    assert not went_wrong(measure(words, None, spots))
    assert went_wrong(measure(_words(["w"] * 20, conf=40.0), None, spots))
    assert not went_wrong(measure(_words(["w"] * 20, conf=40.0), None, spots[:50]))


def _reader(scores: dict[str, tuple[str, float]], log: list[str]):
    """A fake Tesseract: the restore variant reads binarised images, plain reads with
    Tesseract's defaults; each returns the words and confidence given."""

    def read(prepared: Prepared, plain: bool) -> tuple[Word, ...]:
        variant = "plain" if plain else ("restore" if set(np.unique(prepared.image)) <= {0, 255} else "other")
        log.append(variant)
        text, conf = scores.get(variant, ("x", 30.0))
        if text == "fail":
            raise OcrFailed("boom")
        return _words(text.split(), conf)

    return read


def _first(page: np.ndarray) -> Prepared:
    p = prepare(page)
    assert p.spots is not None and len(p.spots) >= 200
    return p


def _covering(lines: int = 24, top: int = 160) -> tuple[Word, ...]:
    """One word per typed line of :func:`_page`, its box over the whole line."""
    return tuple(
        Word("line", BBox(140, top + 48 * i - 30, 1300, top + 48 * i + 14), 95.0, i + 1) for i in range(lines)
    )


def test_a_good_first_reading_is_kept_without_reading_again():
    page = _page()
    log: list[str] = []
    first = _first(page)
    read = _reader({}, log)
    reading = read_page(page, Preprocess(), first, _covering(), read, lambda img: None, None, osd_done=True)
    assert not went_wrong(reading.quality) and reading.quality.coverage == 1.0
    assert reading.variant == "first" and log == []


def test_small_text_scaled_up_is_also_read_unsmoothed_and_the_better_reading_kept():
    page = cv2.resize(_page(), None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)  # ~11 px capitals
    first = prepare(page)
    assert first.scale > 1 and first.spots is not None

    def covering(conf: float) -> tuple[Word, ...]:
        return tuple(
            Word("line", BBox(b.x0 // 2, b.y0 // 2, b.x1 // 2, b.y1 // 2), conf, w.line)
            for w in _covering()
            for b in [w.box]
        )

    for conf, kept in ((95.0, "unsmoothed"), (70.0, "first")):
        log: list[tuple[bool, float]] = []

        def read(prepared: Prepared, plain: bool, conf: float = conf, log: list = log) -> tuple[Word, ...]:
            log.append((plain, prepared.scale))
            return covering(conf)

        reading = read_page(page, Preprocess(), first, covering(85.0), read, lambda img: None, None, True)
        assert reading.variant == kept and reading.tried == ("first", "unsmoothed")
        assert log == [(False, first.scale)]
    # A page read at its own size is read once (test above); so is one prepared unsmoothed.
    log.clear()
    quiet = Preprocess(denoise=False)
    read_page(page, quiet, prepare(page, quiet), covering(85.0), read, lambda img: None, None, True)
    assert log == []


def test_a_bad_first_reading_is_replaced_by_a_better_one_and_plain_needs_a_margin():
    page = _page()
    first = _first(page)
    bad = _words(["x"] * 5, conf=30.0)
    log: list[str] = []
    read = _reader({"restore": ("the war ended " * 10, 90.0), "plain": ("the war ended " * 10, 92.0)}, log)
    known = {"the", "war", "ended"}.__contains__
    reading = read_page(page, Preprocess(), first, bad, read, lambda img: None, known, osd_done=True)
    assert reading.variant == "restore" and log == ["restore", "plain"]
    assert reading.tried == ("first", "restore", "plain")
    log.clear()
    read = _reader({"restore": ("x y z", 30.0), "plain": ("the war ended " * 10, 90.0)}, log)
    reading = read_page(page, Preprocess(), first, bad, read, lambda img: None, known, osd_done=True)
    assert reading.variant == "plain"


def test_a_failing_second_reading_leaves_the_first():
    page = _page()
    first = _first(page)
    bad = _words(["x"] * 5, conf=30.0)
    read = _reader({"restore": ("fail", 0.0), "plain": ("fail", 0.0)}, [])
    reading = read_page(page, Preprocess(), first, bad, read, lambda img: None, None, osd_done=True)
    assert reading.variant == "first" and reading.tried == ("first", "restore:failed", "plain:failed")


def test_osd_turns_a_page_that_read_badly():
    page = _page()
    first = _first(page)
    bad = _words(["x"] * 5, conf=30.0)
    log: list[str] = []
    read = _reader({"other": ("the war ended " * 10, 95.0)}, log)
    known = {"the", "war", "ended"}.__contains__
    reading = read_page(page, Preprocess(), first, bad, read, lambda img: (180, 9.0), known)
    assert reading.variant == "turned" and reading.prepared.rotation == 180
    assert log[0] == "other"  # the turned page was read first


def test_osd_is_asked_only_when_the_reading_is_not_confident_words():
    """A page read confidently into dictionary words is upright, even when marks outside
    its words (specks, faint type) make it go wrong by coverage: no OSD run for it. The
    other readings are still tried."""
    page = _page()
    first = _first(page)
    asked: list[int] = []

    def osd(img: np.ndarray) -> tuple[int, float]:
        asked.append(1)
        return (180, 9.0)

    half = _covering(lines=12)  # confident words over half the typed lines
    log: list[str] = []
    reading = read_page(page, Preprocess(), first, half, _reader({}, log), osd, None)
    assert reading.quality.coverage is not None and reading.quality.coverage < 0.9
    assert went_wrong(reading.quality) and reads_as_text(reading.quality)
    assert asked == [] and "turned" not in reading.tried and log == ["restore", "plain"]
    doubtful = tuple(replace(w, conf=60.0) for w in half)
    reading = read_page(page, Preprocess(), first, doubtful, _reader({}, log), osd, None)
    assert asked == [1] and reading.tried[1] == "turned"


def test_parse_osd():
    text = "Page number: 0\nOrientation in degrees: 90\nRotate: 270\nOrientation confidence: 12.5\n"
    assert parse_osd(text) == (90, 12.5)
    assert parse_osd("Too few characters") is None


def test_page_json_keeps_the_decisions():
    page = Page(
        PageRef(path=__import__("pathlib").Path("a.png"), frame=0, number=1),
        100,
        200,
        _words(["a"]),
        rotation=270,
        skew=-4.2,
        redactions=(BBox(1, 2, 30, 12),),
        variant="restore",
    )
    again = page_from_json(json.loads(json.dumps(page_to_json(page))))
    assert again == page


@pytest.mark.tesseract
@pytest.mark.skipif(not HAVE_TESSERACT, reason="tesseract not installed")
def test_ocr_json_reports_the_rotation_and_reads_a_sideways_page(tmp_path):
    cv2.imwrite(str(tmp_path / "p.png"), turn(_page(lines=12), 90))
    result = CliRunner().invoke(app, ["ocr", str(tmp_path / "p.png"), "--format", "json", "--no-cache", "-q"])
    assert result.exit_code == 0, result.output
    (page,) = json.loads(result.stdout)["pages"]
    assert page["rotation"] == 270
    assert "Ambassador" in page["text"] and "Minister" in page["text"]


def test_osd_decides_the_turn_only_when_confident():
    from ocr_fix.readings import confirmed_rotation

    page = _page()
    p = prepare(turn(page, 180), _quiet(upscale=False))
    assert p.guess == 180 == p.rotation
    seen: list[tuple[int, int]] = []

    def osd(answer: tuple[int, float]):
        def look(img: np.ndarray) -> tuple[int, float]:
            seen.append(img.shape)
            return answer

        return look

    assert confirmed_rotation(p, osd((180, 12.0))) is None  # OSD agrees: keep the turn
    assert confirmed_rotation(p, osd((0, 2.3))) == 0  # unsure: an upside-down guess is dropped
    assert seen[0] == page.shape  # OSD looks at the page as given
    side = prepare(turn(page, 90), _quiet(upscale=False))
    assert side.guess == 270
    assert confirmed_rotation(side, osd((90, 1.0))) is None  # unsure: the sideways turn stays
    assert confirmed_rotation(side, osd((90, 9.0))) == 90  # sure: OSD's way round


def test_second_reading_crops_are_turned_and_levelled_like_their_page():
    from pathlib import Path

    from ocr_fix.ocr.reread import upright

    ref = PageRef(Path("p.png"), 0, 1)
    crop = np.full((300, 40), 255, np.uint8)
    assert upright(crop, Page(ref, 10, 10, (), rotation=90)).shape == (40, 300)
    assert upright(crop, Page(ref, 10, 10, ())).shape == (300, 40)
    levelled = upright(np.full((40, 300), 255, np.uint8), Page(ref, 10, 10, (), skew=-8.0))
    assert levelled.shape[0] > 40  # rotated onto a grown canvas


def test_a_large_punch_hole_is_painted_but_no_redaction():
    page = _page(top=260, lines=20)
    cv2.circle(page, (100, 1200), 45, 20, -1)  # wider than three letters, but round
    p = prepare(page, _quiet(deskew=False, upscale=False, orient=False))
    assert p.marks == 1 and p.redactions == ()


@pytest.mark.parametrize("angle", [0.0, 2.0, -3.0])
def test_bars_on_neighbouring_lines_that_touch_are_each_reported(angle):
    """Three bars over lines 5-7, offset like stairs and touching (one solid that fills its
    rectangle poorly), and a block over lines 12-16: four redactions, on a tilted page too."""
    text = _page(top=260, lines=20)
    page = text.copy()
    stairs = [(560, 440, 1100, 490), (300, 484, 800, 534), (700, 528, 1300, 578)]
    for x0, y0, x1, y1 in stairs:
        cv2.rectangle(page, (x0, y0), (x1 - 1, y1 - 1), 10, -1)
    cv2.rectangle(page, (400, 760), (799, 999), 10, -1)
    if angle:
        page, text = rotate_expand(page, angle, fill=235), rotate_expand(text, angle, fill=235)
    p = prepare(page, _quiet(deskew=False, upscale=False, orient=False))
    assert len(p.redactions) == 4
    if not angle:
        found = sorted(p.redactions, key=lambda r: r[1])
        for (x0, y0, x1, y1), bar in zip(found, [*stairs, (400, 760, 800, 1000)], strict=True):
            # The bars' overlap rows go to both; letters touching an end leave stubs.
            assert abs(x0 - bar[0]) <= 8 and abs(x1 - bar[2]) <= 8
            assert bar[1] - 8 <= y0 and y1 <= bar[3] + 8
    # All painted over: no more near-black than the type alone has.
    bars = int((page < 20).sum() - (text < 20).sum())
    assert (p.image < 20).sum() <= (text < 20).sum() + 0.01 * bars


@pytest.mark.parametrize("font", ["Courier Prime", "DejaVu Sans Mono"])
@pytest.mark.parametrize("rotation", [0, 180])
def test_which_way_up_on_a_small_blurred_scan(rotation, font):
    """A bundled ground-truth page typed, blurred and scanned at 110 dpi: ascenders of one
    line run into the descenders of the line above, so hardly a row between them is free
    of ink (cutting lines at empty rows called such pages upside down, and upside-down
    ones upright: 36 of 60 such pages wrong, now none)."""
    lines = read_gt(ROOT / "golden" / "psis-400-23" / "14.gt.txt")[:22]
    page = render_page(lines, "14", SynthSettings(seed=5, degrade=Degrade.LIGHT, font=font))
    small = cv2.resize(cv2.GaussianBlur(page, (0, 0), 1.4), None, fx=110 / 300, fy=110 / 300)
    assert prepare(turn(small, rotation)).guess == (360 - rotation) % 360
