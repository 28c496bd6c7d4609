"""Text under a redaction bar is withheld, not missing: check lowers what the bar explains."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from ocr_fix.cli import app
from ocr_fix.lexicon import Lexicon
from ocr_fix.model import BBox, Finding, Kind, Page, ScanSpan, Severity
from ocr_fix.pipeline import CheckOptions, check_pages
from ocr_fix.report.explain import reasons
from ocr_fix.synth import Degrade, SynthSettings, render_page
from ocr_fix.transcript import Transcript
from ocr_fix.withheld import FEATURE, at_bar, inside_share, mark_withheld
from tests.fakes import CHAR_W, LINE_H, MARGIN, page_from_text

# The scan: the second line's name is under a bar (read as nothing), the rest plain.
SCAN = (
    "The Ambassador in Moscow reported on the talks of the week\n"
    "with Prince                 and the Foreign Minister about the\n"
    "special envoy whom the Emperor would send to end the war soon.\n"
)
NAME_AT = SCAN.splitlines()[1].index("Prince") + len("Prince ")


def _bar(line: int, col: int, chars: int) -> BBox:
    """A bar over ``chars`` characters from column ``col`` of scan line ``line`` (1-based),
    a little taller than the words as real bars are."""
    x0 = MARGIN + col * CHAR_W
    y0 = MARGIN + line * LINE_H
    return BBox(x0 - 4, y0 - 6, x0 + chars * CHAR_W + 4, y0 + 46)


def _page(text: str = SCAN, bars: tuple[BBox, ...] = ()) -> Page:
    return replace(page_from_text(text), redactions=bars)


def _check(transcript: str, page: Page):
    t = Transcript(Path("t.md"), transcript, "markdown")
    return check_pages(t, [page], Lexicon(), CheckOptions(use_model=False))


def _at(result, kind: Kind, text: str) -> Finding:
    [f] = [
        f
        for f in result.findings
        if f.kind is kind and f.transcript is not None and text in (f.transcript.text.strip(), f.suggestion)
    ]
    return f


BAR = _bar(2, NAME_AT, 16)


def test_the_withheld_name_written_out_is_info_under_a_bar_and_a_finding_without_one():
    transcript = SCAN.replace("Prince                 and", "Prince Fumimaro Konoye and")
    barred = _at(_check(transcript, _page(bars=(BAR,))), Kind.INSERTION, "Fumimaro Konoye")
    assert barred.severity is Severity.INFO and barred.feature(FEATURE) == 1.0
    assert "under a redaction bar on the scan: withheld text" in reasons(barred)
    bare = _at(_check(transcript, _page()), Kind.INSERTION, "Fumimaro Konoye")
    assert not bare.has(FEATURE)


@pytest.mark.parametrize("mark", ["[redacted]", "[...]", "XXXX", ""])
def test_a_mark_or_nothing_where_the_scan_has_a_bar_is_no_finding(mark):
    transcript = SCAN.replace("Prince                 and", f"Prince {mark} and".replace("  ", " "))
    for bars in ((BAR,), ()):
        found = [f for f in _check(transcript, _page(bars=bars)).findings if f.transcript is not None]
        assert not [f for f in found if f.transcript.line == 2]


def test_a_bar_elsewhere_on_the_page_changes_nothing():
    transcript = SCAN.replace("Prince                 and", "Prince Fumimaro Konoye and")
    elsewhere = _bar(3, 20, 10)  # over words the scan still reads: no gap of this insertion
    f = _at(_check(transcript, _page(bars=(elsewhere,))), Kind.INSERTION, "Fumimaro Konoye")
    assert not f.has(FEATURE)
    assert f == _at(_check(transcript, _page()), Kind.INSERTION, "Fumimaro Konoye")


def test_a_whole_line_under_a_bar_written_out_is_withheld():
    full = _page()
    # The scan's second line is all bar: nothing read there.
    page = replace(full, words=tuple(w for w in full.words if w.line != 2), redactions=(_bar(2, 0, 60),))
    transcript = SCAN.replace("Prince                 and", "Prince Konoye and")
    f = _at(_check(transcript, page), Kind.INSERTION, "with Prince Konoye and the Foreign Minister about the")
    assert f.severity is Severity.INFO and f.feature(FEATURE) == 1.0


def test_bar_noise_the_plain_reading_sees_is_no_omission():
    # The plain reading masks nothing: it reads the bar as a row of dark letters.
    noisy = SCAN.replace("Prince                 and", "Prince WMNNMNMMWNMNNMWM and")
    transcript = SCAN.replace("Prince                 and", "Prince and")
    f = _at(_check(transcript, _page(noisy, bars=(BAR,))), Kind.OMISSION, "WMNNMNMMWNMNNMWM")
    assert f.severity is Severity.INFO and f.feature(FEATURE) == 1.0


def test_a_word_cut_by_the_bar_is_withheld_but_the_next_word_is_not():
    # The bar leaves the first three letters of the name: the scan reads 'Fum'.
    cut = SCAN.replace("Prince                 and", "Prince Fum              and")
    bar = _bar(2, NAME_AT + 3, 13)
    transcript = SCAN.replace("Prince                 and", "Prince Fumimaro and")
    t = Transcript(Path("t.md"), transcript, "markdown")
    page = _page(cut, bars=(bar,))
    findings = mark_withheld(
        [
            _finding(t, transcript, "Fumimaro", page, "Fum", Kind.SUBSTITUTION),
            _finding(t, transcript, "Minister", page, "Minister", Kind.SUBSTITUTION),
        ],
        [page],
    )
    assert [f.has(FEATURE) for f in findings] == [True, False]
    assert [f.severity for f in findings] == [Severity.INFO, Severity.ERROR]


def _finding(t: Transcript, text: str, word: str, page: Page, scan_word: str, kind: Kind) -> Finding:
    start = text.index(word)
    [w] = [w for w in page.words if w.text == scan_word]
    scan = ScanSpan(page.number, w.line, w.text, w.conf, w.box)
    return Finding(Severity.ERROR, kind, t.span(start, start + len(word)), scan, scan_word, "m")


def test_geometry():
    bar = BBox(100, 100, 300, 140)
    assert inside_share(BBox(150, 105, 250, 135), [bar]) == 1.0
    assert inside_share(BBox(250, 105, 350, 135), [bar]) == 0.5
    assert inside_share(BBox(0, 0, 0, 10), [bar]) == 0.0
    assert at_bar(BBox(40, 105, 95, 135), [bar])  # ends at the bar's left edge on its line
    assert not at_bar(BBox(40, 150, 95, 180), [bar])  # the line below
    assert not at_bar(BBox(0, 105, 50, 135), [bar])  # a word away


boxes = st.builds(
    lambda x, y, w, h: BBox(x, y, x + w, y + h),
    st.integers(0, 2000),
    st.integers(0, 3000),
    st.integers(1, 600),
    st.integers(1, 80),
)


@given(st.lists(boxes, max_size=4), boxes, st.sampled_from(list(Kind)), st.sampled_from(list(Severity)))
def test_only_ever_lowers_and_only_on_pages_with_bars(bars, box, kind, severity):
    page = _page(bars=tuple(bars))
    f = Finding(severity, kind, None, ScanSpan(1, 1, "x", 90.0, box), "", "m")
    [out] = mark_withheld([f], [page])
    assert out.severity.rank <= f.severity.rank
    assert out == f or (out.severity is Severity.INFO and out.feature(FEATURE) == 1.0)
    assert 0.0 <= inside_share(box, bars) <= 1.0
    assert mark_withheld([f], [_page()]) == [f]


HAVE_TESSERACT = shutil.which("tesseract") is not None
LINES = [
    "It is worthy of note that the movement of troops",
    "had been reported to the Foreign Minister before",
    "the Ambassador called on him at the Ministry and",
    "asked that the matter be settled without delay.",
    "The reply of the Government reached the embassy",
    "on the following morning and was sent on at once",
    "with a request for further instructions on these",
    "questions, which were answered within the week.",
]


def _redacted_page() -> tuple[np.ndarray, int]:
    """A typed page with a bar over the middle of its second line, and the bar's left edge."""
    page = render_page(LINES, "bar", SynthSettings(seed=1, degrade=Degrade.LIGHT))
    ink = page < 128
    rows = np.flatnonzero(ink.sum(axis=1) > 40)  # rows of type (specks are fewer)
    starts = rows[np.flatnonzero(np.diff(rows) > 1) + 1]  # first row of each line after the first
    top, bottom = int(starts[0]), int(starts[1]) - 12  # the second line, descenders and all
    left = int(np.flatnonzero(ink.sum(axis=0))[0])
    x0 = left + 20 * 30  # about columns 20-36 at 10 characters an inch, 300 dpi
    cv2.rectangle(page, (x0 - 6, top - 6), (x0 + 16 * 30 + 6, bottom + 4), 10, -1)
    return page, x0


@pytest.mark.tesseract
@pytest.mark.skipif(not HAVE_TESSERACT, reason="tesseract not installed")
def test_check_on_a_redacted_scan_reports_the_bar_and_withholds_the_text_under_it(tmp_path):
    """Real pages end to end: a bar over the middle of line 2 is found and reported in the
    page's JSON, and the transcript that writes out the words under it is not told they
    are missing from the scan, nor that the letters the bar cut read otherwise."""
    page, x0 = _redacted_page()
    cv2.imwrite(str(tmp_path / "01.png"), page)
    (tmp_path / "t.md").write_text("\n".join(LINES) + "\n", encoding="utf-8")
    out = CliRunner().invoke(
        app, ["check", str(tmp_path / "t.md"), str(tmp_path / "01.png"), "-f", "json", "--no-cache"]
    )
    doc = json.loads(out.stdout)
    [bar] = doc["pages"][0]["redactions"]
    assert bar[0] <= x0 and bar[2] >= x0 + 16 * 30
    hidden = [f for f in doc["findings"] if f["transcript"] and f["transcript"]["line"] == 2]
    assert {f["kind"] for f in hidden} >= {"insertion"}
    assert all(f["severity"] == "info" and f["features"][FEATURE] == 1.0 for f in hidden)
    assert not any(f.get("features", {}).get(FEATURE) for f in doc["findings"] if f not in hidden)
