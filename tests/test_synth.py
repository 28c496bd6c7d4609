"""Synthetic page renderer: determinism, geometry, CLI behaviour."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

import ocr_fix.synth as synth
from ocr_fix.cli import app
from ocr_fix.errors import BadInput
from ocr_fix.synth import Degrade, SynthSettings, find_font, page_stem, render_page

runner = CliRunner()
LINES = [
    "RUSSO-JAPANESE RELATIONS",
    "",
    "The quick brown fox jumps over the lazy dog.",
    "Attaché (OP-20-3-850) 1945; \"quoted\" and 'single'.",
]

pytestmark = pytest.mark.skipif(
    not any(p.is_file() for p in synth.FONT_PATHS), reason="Courier Prime not installed"
)


def _digest(img: np.ndarray) -> str:
    return hashlib.sha256(img.tobytes()).hexdigest()


def test_same_seed_same_pixels_other_seed_or_page_differs():
    a = render_page(LINES, "01", SynthSettings(seed=7, dpi=150))
    b = render_page(LINES, "01", SynthSettings(seed=7, dpi=150))
    c = render_page(LINES, "01", SynthSettings(seed=8, dpi=150))
    d = render_page(LINES, "02", SynthSettings(seed=7, dpi=150))
    assert _digest(a) == _digest(b)
    assert len({_digest(a), _digest(c), _digest(d)}) == 3


@pytest.mark.parametrize("dpi", [100, 300])
def test_us_letter_size_greyscale(dpi):
    img = render_page(LINES, "x", SynthSettings(dpi=dpi, degrade=Degrade.LIGHT))
    assert img.dtype == np.uint8 and img.ndim == 2
    assert img.shape == (11 * dpi, round(8.5 * dpi))


def test_text_sits_inside_one_inch_margins_when_clean():
    img = render_page(["X" * 65] * 3, "m", SynthSettings(degrade=Degrade.NONE, dpi=100))
    ys, xs = np.nonzero(img < 128)
    assert xs.min() >= 100 - 2 and xs.max() <= 750 + 2  # 65 columns at 10 cpi = 6.5 in
    assert ys.min() >= 100 and ys.max() < 200
    margin = img[:95, :]
    assert margin.min() == margin.max() >= 200  # clean, even paper


def test_degradation_levels_are_ordered():
    def noise(level: Degrade) -> float:
        img = render_page(LINES, "n", SynthSettings(degrade=level, dpi=100)).astype(float)
        paper = img[5:95, 5:845]  # top margin: no text
        return float(paper.std())

    assert noise(Degrade.NONE) < noise(Degrade.LIGHT) < noise(Degrade.HEAVY)


def test_jpeg_option_changes_pixels():
    plain = render_page(LINES, "j", SynthSettings(dpi=100))
    jpeg = render_page(LINES, "j", SynthSettings(dpi=100, jpeg_quality=30))
    assert _digest(plain) != _digest(jpeg) and plain.shape == jpeg.shape


def test_page_stem():
    from pathlib import Path

    assert page_stem(Path("d/03.gt.txt")) == "03"
    assert page_stem(Path("notes.txt")) == "notes"


def test_cli_writes_named_pngs_deterministically(tmp_path):
    (tmp_path / "03.gt.txt").write_text("\n".join(LINES) + "\n", encoding="utf-8")
    (tmp_path / "04.gt.txt").write_text("Second page.\n", encoding="utf-8")
    args = [
        "synth",
        str(tmp_path / "03.gt.txt"),
        str(tmp_path / "04.gt.txt"),
        "--dpi",
        "100",
        "--seed",
        "5",
        "-q",
    ]
    first = runner.invoke(app, [*args, "-o", str(tmp_path / "a")])
    second = runner.invoke(app, [*args, "-o", str(tmp_path / "b")])
    assert first.exit_code == 0 and second.exit_code == 0, first.output
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == ["03.png", "04.png"]
    assert (tmp_path / "a" / "03.png").read_bytes() == (tmp_path / "b" / "03.png").read_bytes()
    with Image.open(tmp_path / "a" / "03.png") as im:
        assert im.mode == "L" and im.size == (850, 1100)


def test_cli_bad_inputs_write_nothing(tmp_path):
    good = tmp_path / "01.gt.txt"
    good.write_text("fine\n", encoding="utf-8")
    bad = tmp_path / "02.gt.txt"
    bad.write_bytes(b"caf\xe9\n")
    out = tmp_path / "out"
    result = runner.invoke(app, ["synth", str(good), str(bad), "-o", str(out)])
    assert result.exit_code == 4
    assert "not UTF-8" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert not out.exists()
    missing = runner.invoke(app, ["synth", str(tmp_path / "nope.gt.txt"), "-o", str(out)])
    assert missing.exit_code == 3 and not out.exists()


def test_missing_font_is_bad_input(monkeypatch, tmp_path):
    monkeypatch.setattr(synth, "FONT_PATHS", (tmp_path / "none.otf",))
    monkeypatch.setattr(synth.shutil, "which", lambda name: None)
    with pytest.raises(BadInput, match="fonts-courier-prime"):
        find_font()


def _family_installed(family: str) -> bool:
    try:
        find_font(family)
    except BadInput:
        return False
    return True


def test_default_font_renders_the_committed_scans_byte_for_byte(tmp_path):
    """The bundled scans were made with the defaults; a font option must not move a pixel."""
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    written = synth.synth_pages([root / "golden" / "psis-400-23" / "03.gt.txt"], tmp_path)
    assert written[0].read_bytes() == (root / "scans" / "psis-400-23" / "03.png").read_bytes()
    assert find_font(None) == find_font("Courier Prime") == find_font("courier prime")


@pytest.mark.parametrize("family", [f for f in synth.TYPEWRITER_FONTS if f != "Courier Prime"])
def test_other_typewriter_families_render_other_pixels(family):
    if not _family_installed(family):
        pytest.skip(f"{family} not installed (make system-deps)")
    path = find_font(family)
    assert path.is_file() and not any(w in path.stem.lower() for w in ("bold", "italic", "oblique"))
    default = render_page(LINES, "f", SynthSettings(dpi=100, degrade=Degrade.NONE))
    other = render_page(LINES, "f", SynthSettings(dpi=100, degrade=Degrade.NONE, font=family))
    by_path = render_page(LINES, "f", SynthSettings(dpi=100, degrade=Degrade.NONE, font=str(path)))
    assert _digest(other) == _digest(by_path) != _digest(default)
    # Same 10-pitch grid: the ink starts at the left margin and stays within the line width.
    xs = np.nonzero(other < 128)[1]
    assert 95 <= xs.min() <= 110 and xs.max() <= 100 + 10 * max(map(len, LINES)) + 5


def test_cli_font_option_and_its_failures(tmp_path):
    gt = tmp_path / "01.gt.txt"
    gt.write_text("\n".join(LINES) + "\n", encoding="utf-8")
    font = str(find_font(None))
    ok = runner.invoke(
        app, ["synth", str(gt), "-o", str(tmp_path / "a"), "--dpi", "72", "-q", "--font", font]
    )
    assert ok.exit_code == 0, ok.output
    unknown = runner.invoke(app, ["synth", str(gt), "-o", str(tmp_path / "b"), "--font", "No Such Family 42"])
    assert unknown.exit_code == 4 and "No Such Family 42" in unknown.stderr
    missing = runner.invoke(app, ["synth", str(gt), "-o", str(tmp_path / "c"), "--font", "/nope/x.ttf"])
    assert missing.exit_code == 3
    assert not (tmp_path / "b").exists() and not (tmp_path / "c").exists()


@pytest.mark.parametrize("family", ["DejaVu Sans", "Liberation Serif"])
def test_a_proportional_face_is_set_at_its_own_advances(family):
    """A proportional face is set at each glyph's advance: ten i's take far less room
    than ten m's, and a full stop after an m stands apart from it instead of inside it
    (on a typewriter's fixed pitch it did)."""
    if not _family_installed(family):
        pytest.skip(f"{family} not installed (make system-deps)")
    settings = SynthSettings(dpi=150, degrade=Degrade.NONE, font=family)

    def extent(line: str) -> tuple[int, int]:
        xs = np.nonzero(render_page([line], "p", settings) < 128)[1]
        return int(xs.min()), int(xs.max())

    i0, i1 = extent("iiiiiiiiii")
    m0, m1 = extent("mmmmmmmmmm")
    assert i1 - i0 < 0.5 * (m1 - m0)
    _, m_end = extent("Sum")
    cols = set(np.nonzero(render_page(["Sum."], "p", settings) < 128)[1].tolist())
    assert max(cols) > m_end + 2  # the stop lies past the m, not inside it
    assert any(x not in cols for x in range(m_end + 1, max(cols)))  # with white between


def test_a_typewriter_face_keeps_its_fixed_pitch():
    settings = SynthSettings(dpi=150, degrade=Degrade.NONE)
    ink_i = np.nonzero(render_page(["i" * 10], "p", settings) < 128)[1]
    ink_m = np.nonzero(render_page(["m" * 10], "p", settings) < 128)[1]
    assert abs((ink_i.max() - ink_i.min()) - (ink_m.max() - ink_m.min())) < 15  # 10 pitches each
