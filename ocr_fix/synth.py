"""Render ground-truth pages as typewritten page scans.

The project needs page scans whose true text is known exactly, to measure OCR and to test
the whole check pipeline end to end; archival scans with exact ground truth are scarce
and cannot be redistributed freely. This renders each line as a 1940s office typewriter
would have put it on US letter paper (10-pitch monospace, 1-inch margins) and then
degrades it the way typing, ageing and scanning do: uneven key strikes and baselines,
ink bleed, paper texture, dust, a slightly crooked page, lossy compression.

Everything random comes from one ``numpy.random.Generator`` seeded from ``seed`` and the
page's file stem, so a page renders to the same bytes on every run and machine.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from ocr_fix.errors import BadInput, InputNotFound
from ocr_fix.fileio import make_dir, write_atomic

FONT_PATHS = (
    Path("/usr/share/fonts/opentype/courier-prime/Courier Prime.otf"),
    Path("/usr/share/fonts/truetype/courier-prime/Courier Prime.ttf"),
    Path("/usr/share/fonts/opentype/courier-prime/CourierPrime-Regular.otf"),
)
FONT_MISSING = (
    "typewriter font Courier Prime not found; install it with: sudo apt-get install fonts-courier-prime"
)
#: Monospaced typewriter-like families ``make system-deps`` installs (Debian packages
#: fonts-courier-prime, fonts-freefont-ttf, fonts-liberation, fonts-dejavu-core,
#: fonts-texgyre). All have a 600/1000 em advance, so at 12 pt they fill the 10-pitch grid.
TYPEWRITER_FONTS = ("Courier Prime", "FreeMono", "Liberation Mono", "DejaVu Sans Mono", "TeX Gyre Cursor")

#: Bumped when the same settings render other pixels (2: proportional faces are set at
#: their glyphs' advances); a cache of rendered pages keys on it.
RENDER_VERSION = 2
PAGE_INCHES = (8.5, 11.0)
MARGIN_INCHES = 1.0
POINT_SIZE = 12.0
LINES_PER_INCH = 6.0  # single spacing on a pica typewriter


class Degrade(str, Enum):
    NONE = "none"
    LIGHT = "light"
    MEDIUM = "medium"
    HEAVY = "heavy"


@dataclass(frozen=True, slots=True)
class Damage:
    """How hard each kind of degradation hits; one preset per :class:`Degrade` level."""

    ink_sd: float  # spread of per-glyph strike strength
    light_strike: float  # share of keys struck lightly (a weak finger, a worn ribbon)
    ribbon: float  # strength of the blotchy ribbon texture inside glyphs
    baseline_sd: float  # px (at 300 dpi) of per-glyph vertical jitter
    advance_sd: float  # px of per-glyph horizontal jitter
    bleed: float  # Gaussian sigma (px at 300 dpi) of ink spreading into paper
    paper: float  # amplitude of paper texture
    grain: float  # per-pixel scanner noise sd
    speckle: float  # dust specks per square inch
    max_rotation: float  # degrees
    jpeg: int | None  # JPEG quality round trip, None = lossless


PRESETS: dict[Degrade, Damage] = {
    Degrade.NONE: Damage(0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, None),
    Degrade.LIGHT: Damage(0.06, 0.03, 0.15, 0.5, 0.3, 0.7, 6.0, 0.0, 0.5, 0.4, None),
    Degrade.MEDIUM: Damage(0.10, 0.10, 0.35, 0.9, 0.5, 1.0, 10.0, 0.0, 2.0, 0.9, None),
    Degrade.HEAVY: Damage(0.16, 0.20, 0.55, 1.4, 0.8, 1.5, 16.0, 4.0, 6.0, 1.0, 70),
}


@dataclass(frozen=True, slots=True)
class SynthSettings:
    seed: int = 0
    degrade: Degrade = Degrade.MEDIUM
    dpi: int = 300
    jpeg_quality: int | None = None  # overrides the preset's JPEG round trip
    #: A font file, or a family name fontconfig knows (``fc-list : family``); None is
    #: Courier Prime.
    font: str | None = None


def find_font(font: str | None = None) -> Path:
    """The font file to type with.

    ``None``: Courier Prime from the Debian package's path, else wherever fontconfig has
    it. A path to an existing file is used as it is; anything else is a family name
    looked up through fontconfig (its upright, regular-weight face). Raises
    :class:`BadInput` naming the font when it cannot be found.
    """
    if font is None:
        for path in FONT_PATHS:
            if path.is_file():
                return path
        found = _fontconfig_regular("Courier Prime")
        if found is None:
            raise BadInput(FONT_MISSING)
        return found
    as_path = Path(font).expanduser()
    if as_path.is_file():
        return as_path
    if as_path.suffix.lower() in (".ttf", ".otf", ".ttc", ".pfb") or "/" in font:
        raise InputNotFound(as_path)
    found = _fontconfig_regular(font)
    if found is None:
        raise BadInput(
            f"font {font!r} not found: give a font file or a family that `fc-list : family` lists "
            f"(typewriter-like ones: {', '.join(TYPEWRITER_FONTS)})"
        )
    return found


def _fontconfig_regular(family: str) -> Path | None:
    """The upright, regular-weight file of ``family`` (case-insensitive) per fontconfig.

    Faces are ranked by slant, then by distance from regular weight (80), then by the
    file name (some packages label every face "Regular": the one whose name says neither
    bold, italic nor oblique wins).
    """
    if not shutil.which("fc-list"):
        return None
    out = subprocess.run(
        ["fc-list", "--format", "%{file}\t%{weight}\t%{slant}\n", f":family={family}"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    ranked: list[tuple[int, float, int, int, str]] = []
    for row in out.splitlines():
        parts = row.split("\t")
        if len(parts) != 3 or not Path(parts[0]).is_file():
            continue
        name = Path(parts[0]).stem.lower()
        styled = sum(word in name for word in ("bold", "italic", "oblique", "light"))
        try:
            weight, slant = float(parts[1] or 80), int(float(parts[2] or 0))
        except ValueError:
            weight, slant = 80.0, 0
        ranked.append((slant, abs(weight - 80.0), styled, len(name), parts[0]))
    return Path(min(ranked)[-1]) if ranked else None


@lru_cache(maxsize=8)
def _glyph_atlas(
    font_path: str, px: int
) -> tuple[ImageFont.FreeTypeFont, dict[str, tuple[np.ndarray, int, int]]]:
    return ImageFont.truetype(font_path, px), {}


def _proportional(font: ImageFont.FreeTypeFont) -> bool:
    """Whether ``font`` gives its glyphs different advances (``i`` narrower than ``m``)."""
    return abs(font.getlength("i") - font.getlength("m")) > 0.5


def _glyph(font_path: str, px: int, ch: str) -> tuple[np.ndarray, int, int]:
    """Coverage mask (float32 0..1) of one character and its offset from the pen origin."""
    font, cache = _glyph_atlas(font_path, px)
    hit = cache.get(ch)
    if hit is None:
        # FreeType boxes are whole pixels (Pillow types them as float).
        x0, y0, x1, y1 = (int(v) for v in font.getbbox(ch, anchor="ls"))
        w, h = max(1, x1 - x0), max(1, y1 - y0)
        im = Image.new("L", (w, h), 0)
        ImageDraw.Draw(im).text((-x0, -y0), ch, fill=255, font=font, anchor="ls")
        made = (np.asarray(im, dtype=np.float32) / 255.0, x0, y0)
        cache[ch] = made
        return made
    return hit


def _rng(seed: int, stem: str) -> np.random.Generator:
    return np.random.default_rng([seed & 0xFFFFFFFF, zlib.crc32(stem.encode("utf-8"))])


def render_page(lines: Sequence[str], stem: str, settings: SynthSettings = SynthSettings()) -> np.ndarray:
    """Render typed lines to an 8-bit greyscale page (US letter at ``settings.dpi``)."""
    font_path = str(find_font(settings.font))
    rng = _rng(settings.seed, stem)
    dmg = PRESETS[settings.degrade]
    k = settings.dpi / 300.0
    width, height = round(PAGE_INCHES[0] * settings.dpi), round(PAGE_INCHES[1] * settings.dpi)
    margin = round(MARGIN_INCHES * settings.dpi)
    em = round(POINT_SIZE / 72.0 * settings.dpi)
    advance = settings.dpi / 10.0  # 10 characters per inch
    usable = height - 2 * margin
    pitch = min(settings.dpi / LINES_PER_INCH, usable / max(1, len(lines)))
    ascent = round(0.75 * em)

    font, _ = _glyph_atlas(font_path, em)
    proportional = _proportional(font)

    ink: np.ndarray = np.zeros((height, width), dtype=np.float32)
    for row, line in enumerate(lines):
        base_y = margin + ascent + row * pitch
        # The whole line sits slightly off (platen advance is not perfectly even).
        line_dy = rng.normal(0.0, dmg.baseline_sd * 0.5 * k)
        pen = 0.0
        for col, ch in enumerate(line):
            # A typewriter moves one pitch a key; a proportional face is set at each
            # glyph's own advance (on the fixed pitch its wide letters ran into the
            # marks after them: the full stop of "Sum." vanished inside the m).
            start = pen if proportional else col * advance
            pen += font.getlength(ch) if proportional else advance
            if ch.isspace():
                continue
            mask, ox, oy = _glyph(font_path, em, ch)
            strength = 1.0 + rng.normal(0.0, dmg.ink_sd)
            if dmg.light_strike and rng.random() < dmg.light_strike:
                strength *= rng.uniform(0.45, 0.75)
            x = margin + start + ox + rng.normal(0.0, dmg.advance_sd * k)
            y = base_y + oy + line_dy + rng.normal(0.0, dmg.baseline_sd * k)
            _stamp(ink, mask, round(x), round(y), float(np.clip(strength, 0.25, 1.3)))

    if dmg.ribbon:
        # A worn ribbon leaves blotchy ink: low-frequency noise that thins strokes.
        blotch = _smooth_noise(rng, ink.shape, 4.0 * k)
        ink *= np.clip(1.0 - dmg.ribbon * np.maximum(blotch, 0.0) * 1.6, 0.2, 1.0)
    if dmg.bleed:
        ink = cv2.GaussianBlur(ink, (0, 0), dmg.bleed * k)
    np.clip(ink, 0.0, 1.0, out=ink)

    paper = np.full(ink.shape, 238.0, dtype=np.float32)
    if dmg.paper:
        paper += dmg.paper * _smooth_noise(rng, ink.shape, 60.0 * k)
        paper += 0.25 * dmg.paper * _smooth_noise(rng, ink.shape, 12.0 * k)
    page: np.ndarray = paper * (1.0 - 0.88 * ink)
    if dmg.speckle:
        _speckle(page, rng, dmg.speckle * PAGE_INCHES[0] * PAGE_INCHES[1], k)
    if dmg.grain:
        page += rng.normal(0.0, dmg.grain, size=page.shape).astype(np.float32)
    out: np.ndarray = _posterise_paper(np.clip(page, 0, 255).astype(np.uint8))
    if dmg.max_rotation:
        angle = float(rng.uniform(-dmg.max_rotation, dmg.max_rotation))
        m = cv2.getRotationMatrix2D((width / 2.0, height / 2.0), angle, 1.0)
        out = cv2.warpAffine(out, m, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    quality = settings.jpeg_quality if settings.jpeg_quality is not None else dmg.jpeg
    if quality is not None:
        ok, buf = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
        if not ok:
            raise BadInput(f"JPEG encoding failed at quality {quality}")
        decoded = cv2.imdecode(buf, cv2.IMREAD_GRAYSCALE)
        if decoded is None:
            raise BadInput(f"JPEG decoding failed at quality {quality}")
        out = decoded
    return out


def _posterise_paper(img: np.ndarray, floor: int = 200, step: int = 8) -> np.ndarray:
    """Round paper tones (no ink there) to steps of 8 grey levels.

    Grain in blank paper carries no text but makes PNGs incompressible; like a scanner's
    coarse highlight precision, rounding it keeps a bundled page near 1.5 MB.
    """
    light = img >= floor
    out = img.copy()
    out[light] = np.minimum(255, (img[light] // step) * step + step // 2)
    return out


def _stamp(ink: np.ndarray, mask: np.ndarray, x: int, y: int, strength: float) -> None:
    h, w = mask.shape
    H, W = ink.shape
    x0, y0, x1, y1 = max(0, x), max(0, y), min(W, x + w), min(H, y + h)
    if x0 >= x1 or y0 >= y1:
        return
    region = ink[y0:y1, x0:x1]
    glyph = mask[y0 - y : y1 - y, x0 - x : x1 - x] * strength
    # Overstrikes add up (darker), but coverage saturates.
    np.maximum(region, np.minimum(1.3, region + glyph), out=region)


def _smooth_noise(rng: np.random.Generator, shape: tuple[int, int], scale: float) -> np.ndarray:
    """Zero-mean, roughly unit-sd noise with features about ``scale`` px across."""
    h, w = shape
    sh, sw = max(2, int(h / scale) + 2), max(2, int(w / scale) + 2)
    coarse = rng.normal(0.0, 1.0, size=(sh, sw)).astype(np.float32)
    return cv2.resize(coarse, (w, h), interpolation=cv2.INTER_CUBIC)


def _speckle(page: np.ndarray, rng: np.random.Generator, count: float, k: float) -> None:
    n = int(rng.poisson(count))
    if n == 0:
        return
    h, w = page.shape
    ys = rng.integers(0, h, size=n)
    xs = rng.integers(0, w, size=n)
    radii = rng.uniform(0.6, 2.2, size=n) * k
    shades = rng.uniform(40, 150, size=n)
    for x, y, r, s in zip(xs, ys, radii, shades, strict=True):
        cv2.circle(page, (int(x), int(y)), max(1, round(r)), float(s), -1, lineType=cv2.LINE_AA)


def read_gt(path: Path) -> list[str]:
    """Lines of a ground-truth page (UTF-8, trailing whitespace dropped)."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise InputNotFound(path) from None
    except IsADirectoryError:
        raise BadInput("is a directory, expected a .gt.txt file", path) from None
    if b"\0" in raw:
        raise BadInput("binary file, expected UTF-8 text", path)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BadInput(f"not UTF-8 (byte {exc.start})", path) from None
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").split("\n")]
    while lines and not lines[-1]:
        lines.pop()
    return lines


def page_stem(path: Path) -> str:
    """``03.gt.txt`` -> ``03``; ``notes.txt`` -> ``notes``."""
    name = path.name
    for suffix in (".gt.txt", ".txt"):
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return path.stem


def synth_pages(
    gt_paths: Sequence[Path], out_dir: Path, settings: SynthSettings = SynthSettings()
) -> list[Path]:
    """Render every ground-truth file to ``out_dir/<stem>.png``; returns the written paths.

    All inputs are read and checked before anything is written, and each PNG is written
    to a temporary file then renamed, so a failure never leaves a partial page behind.
    """
    pages = [(page_stem(p), read_gt(p)) for p in gt_paths]
    stems = [s for s, _ in pages]
    dupes = sorted({s for s in stems if stems.count(s) > 1})
    if dupes:
        raise BadInput(f"two inputs would both write {dupes[0]}.png")
    find_font(settings.font)
    make_dir(out_dir)
    written: list[Path] = []
    for stem, lines in pages:
        img = render_page(lines, stem, settings)
        target = out_dir / f"{stem}.png"
        png = io.BytesIO()
        Image.fromarray(img, mode="L").save(
            png, format="PNG", optimize=False, dpi=(settings.dpi, settings.dpi)
        )
        write_atomic(target, png.getvalue())
        written.append(target)
    return written
