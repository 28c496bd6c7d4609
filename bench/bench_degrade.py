"""Degradation benchmark: plain Tesseract vs ``ocr-fix ocr`` on damaged typed pages.

Ground-truth pages (the first lines of a few ``golden/psis-400-23/*.gt.txt``, every
typewriter font ``synth`` offers) are rendered with :mod:`ocr_fix.synth` (light wear) and
then damaged along one axis at a time, at increasing strength:

* ``rotate``: the page turned 90 / 180 / 270 degrees;
* ``skew``: tilted 2 / 5 / 10 degrees (one page each way) on a dark scanner bed that
  shows as a border, with a page shadow and, at the top strength, punch holes;
* ``redact``: black redaction bars over text lines and boxed stamps, page tilted 1-2 degrees;
* ``speckle``: photocopy toner specks at rising density;
* ``faint``: weak ink on unevenly lit paper;
* ``lowres``: blurred and scanned at 150 / 110 / 85 dpi;
* ``jpeg``: JPEG at falling quality and resolution.

For every cell it reports the micro CER (edits / ground-truth characters, after NFC and
whitespace folding, :func:`ocr_fix.metrics.cer`) of plain ``tesseract IMG stdout``
(Tesseract's defaults, single-threaded) and of ocr-fix's engine as ``ocr-fix ocr`` runs
it, and ocr-fix's seconds per page. Text under a redaction bar stays in the ground truth,
so neither reader can get it right; both pay for it alike.

Also:

* clean-page time: ocr-fix now vs ocr-fix with the pre-issue-10 preprocessing
  (:func:`legacy_engine`), on the clean pages, interleaved in this process, as a ratio;
* the real English typewritten pages in ``../shared/realdata`` (partial transcripts:
  untranscribed letterheads inflate both CERs alike), plain vs ocr-fix.

Plain Tesseract's readings are cached under ``.bench/degrade-cache`` by image content,
so a rerun only pays for ocr-fix. Run: ``python bench/run.py degrade``; directly,
``python bench/bench_degrade.py [--quick] [--only CONDITION,...]``: ``--quick`` skips
the real pages, ``--only lowres,jpeg`` runs those conditions' cells alone (no clean-page
timing, no real pages, no totals over the whole table).
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ocr_fix import synth  # noqa: E402
from ocr_fix.errors import BadInput  # noqa: E402
from ocr_fix.metrics import cer, normalise  # noqa: E402
from ocr_fix.model import PageRef  # noqa: E402
from ocr_fix.ocr.tesseract import OcrSettings, TesseractEngine  # noqa: E402
from ocr_fix.scans import Preprocess  # noqa: E402

GOLDEN = ROOT / "golden" / "psis-400-23"
REALDATA = ROOT.parent / "shared" / "realdata"
REAL_SETS = ("ehri_english_typewritten", "ehri_english_more")
CACHE = ROOT / ".bench" / "degrade-cache"
#: Ground-truth pages rendered (their first LINES lines: half a page keeps the run short).
GT_PAGES = ("03", "08", "14", "19")
LINES = 22
SEED = 5
BASES = 10

Degrader = Callable[[np.ndarray, np.random.Generator, int], np.ndarray]


@dataclass(frozen=True)
class Cell:
    condition: str
    strength: str
    damage: Degrader
    bases: tuple[int, ...]  # which rendered base pages it uses


# --- damage -----------------------------------------------------------------------------


def _rotated(k: int) -> Degrader:
    def damage(img: np.ndarray, rng: np.random.Generator, i: int) -> np.ndarray:
        return np.ascontiguousarray(np.rot90(img, k))  # k quarter turns counter-clockwise

    return damage


def _tilt(img: np.ndarray, angle: float, bed: int, pad: int) -> np.ndarray:
    """The page rotated by ``angle`` on a scanner bed of grey ``bed``, ``pad`` px around."""
    h, w = img.shape
    canvas = np.full((h + 2 * pad, w + 2 * pad), bed, np.uint8)
    m = cv2.getRotationMatrix2D((w / 2.0, h / 2.0), angle, 1.0)
    m[:, 2] += pad
    return cv2.warpAffine(
        img, m, (canvas.shape[1], canvas.shape[0]), dst=canvas, borderMode=cv2.BORDER_TRANSPARENT
    )


def _skewed(angle: float, border: int, shadow: bool, holes: bool) -> Degrader:
    def damage(img: np.ndarray, rng: np.random.Generator, i: int) -> np.ndarray:
        page = img.copy()
        h, w = page.shape
        if holes:  # three punch holes in the left margin show the dark bed through them
            for y in (h // 5, h // 2, 4 * h // 5):
                cv2.circle(page, (int(0.45 * 300), y), 40, 35, -1, lineType=cv2.LINE_AA)
        if shadow:  # the page lifts off the glass at one edge: a dark ramp inward
            ramp = np.linspace(0.45, 1.0, 160, dtype=np.float32)
            page[:, :160] = (page[:, :160].astype(np.float32) * ramp[None, :]).astype(np.uint8)
        # Room for the tilted page's corners, then the visible border.
        pad = border + int(0.5 * max(h, w) * np.sin(np.radians(angle)))
        out = _tilt(page, angle if i % 2 == 0 else -angle, int(rng.integers(20, 60)), pad)
        # Uneven margins: the page is never centred on the bed.
        cuts = rng.integers(0, 40, size=4)
        return out[cuts[0] : out.shape[0] - cuts[1], cuts[2] : out.shape[1] - cuts[3]].copy()

    return damage


def _text_rows(img: np.ndarray) -> list[tuple[int, int]]:
    """(top, bottom) of each text line of a rendered page, from its row profile."""
    ink = (img < 160).sum(axis=1) > 3
    rows: list[tuple[int, int]] = []
    start = None
    for y, on in enumerate(ink):
        if on and start is None:
            start = y
        elif not on and start is not None:
            if y - start >= 12:
                rows.append((start, y))
            start = None
    return rows


def _stamp(page: np.ndarray, rng: np.random.Generator, text: str) -> None:
    h, w = page.shape
    box = np.full((170, 760), 255, np.uint8)
    cv2.rectangle(box, (6, 6), (753, 163), 0, 7)
    cv2.putText(box, text, (40, 110), cv2.FONT_HERSHEY_DUPLEX, 2.2, 0, 5, cv2.LINE_AA)
    m = cv2.getRotationMatrix2D((380, 85), float(rng.uniform(-8, 8)), 1.0)
    box = cv2.warpAffine(box, m, (760, 170), borderValue=255)
    x = int(rng.integers(w // 3, w - 800))
    y = int(rng.integers(200, h // 2))
    region = page[y : y + 170, x : x + 760]
    np.minimum(region, np.where(box < 128, 70, 255).astype(np.uint8), out=region)


def _redacted(bars: int, stamps: int, angle: float) -> Degrader:
    def damage(img: np.ndarray, rng: np.random.Generator, i: int) -> np.ndarray:
        page = img.copy()
        rows = _text_rows(page)
        for k in rng.choice(len(rows), size=min(bars, len(rows)), replace=False):
            top, bottom = rows[int(k)]
            x0 = int(rng.integers(300, 1100))
            x1 = int(min(page.shape[1] - 250, x0 + rng.integers(250, 1200)))
            cv2.rectangle(page, (x0, top - 6), (x1, bottom + 6), int(rng.integers(5, 30)), -1)
        for s in range(stamps):
            _stamp(page, rng, ("DECLASSIFIED", "SECRET", "RECEIVED")[s % 3])
        return _tilt(page, angle if i % 2 == 0 else -angle, 250, 0)

    return damage


def _speckled(density: float, blobs: float) -> Degrader:
    """Toner specks (``density`` per square inch, 1-3 px) and blobs; a photocopy's contrast."""

    def damage(img: np.ndarray, rng: np.random.Generator, i: int) -> np.ndarray:
        page = img.astype(np.float32)
        page = np.clip((page - 60) * 1.25, 0, 255)  # photocopies push ink and paper apart
        h, w = page.shape
        inches = h * w / 300.0**2
        n = int(density * inches)
        ys, xs = rng.integers(0, h, n), rng.integers(0, w, n)
        radii = rng.choice([1, 1, 1, 2, 2, 3], n)
        for x, y, r in zip(xs, ys, radii, strict=True):
            cv2.circle(page, (int(x), int(y)), int(r), float(rng.uniform(0, 90)), -1)
        nb = int(blobs * inches)
        for x, y in zip(rng.integers(0, w, nb), rng.integers(0, h, nb), strict=True):
            axes = (int(rng.integers(3, 9)), int(rng.integers(2, 6)))
            cv2.ellipse(page, (int(x), int(y)), axes, float(rng.uniform(0, 180)), 0, 360, 40.0, -1)
        return page.astype(np.uint8)

    return damage


def _faint(ink: float, light: float) -> Degrader:
    """Ink at ``ink`` of its strength; light falling to ``light`` across the page."""

    def damage(img: np.ndarray, rng: np.random.Generator, i: int) -> np.ndarray:
        page = img.astype(np.float32)
        paper = float(np.percentile(page, 90))
        page = paper - (paper - page) * ink
        h, w = page.shape
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        t = (xx / w + yy / h) / 2.0 if i % 2 == 0 else (1 - xx / w + yy / h) / 2.0
        page *= 1.0 - (1.0 - light) * t
        return np.clip(page, 0, 255).astype(np.uint8)

    return damage


def _lowres(dpi: int, sigma: float) -> Degrader:
    def damage(img: np.ndarray, rng: np.random.Generator, i: int) -> np.ndarray:
        page = cv2.GaussianBlur(img, (0, 0), sigma)
        f = dpi / 300.0
        return cv2.resize(page, None, fx=f, fy=f, interpolation=cv2.INTER_AREA)

    return damage


def _jpeg(quality: int, dpi: int) -> Degrader:
    def damage(img: np.ndarray, rng: np.random.Generator, i: int) -> np.ndarray:
        f = dpi / 300.0
        page = cv2.resize(img, None, fx=f, fy=f, interpolation=cv2.INTER_AREA) if f < 1 else img
        ok, buf = cv2.imencode(".jpg", page, [cv2.IMWRITE_JPEG_QUALITY, quality])
        assert ok
        return cv2.imdecode(buf, cv2.IMREAD_GRAYSCALE)

    return damage


def _identity(img: np.ndarray, rng: np.random.Generator, i: int) -> np.ndarray:
    return img


def cells(bases: int) -> list[Cell]:
    """Every condition and strength; rotations use the clean cell's pages (so their CER
    compares with the upright reading), the rest spread over all base pages."""
    spec: list[tuple[str, str, Degrader]] = [
        ("rotate", "90", _rotated(1)),
        ("rotate", "180", _rotated(2)),
        ("rotate", "270", _rotated(3)),
        ("skew", "2deg border", _skewed(2.0, 30, False, False)),
        ("skew", "5deg border+shadow", _skewed(5.0, 80, True, False)),
        ("skew", "10deg border+holes", _skewed(10.0, 140, True, True)),
        ("redact", "2 bars 1 stamp 1deg", _redacted(2, 1, 1.0)),
        ("redact", "4 bars 1 stamp 2deg", _redacted(4, 1, 2.0)),
        ("redact", "7 bars 2 stamps 2deg", _redacted(7, 2, 2.0)),
        ("speckle", "light", _speckled(15, 0.2)),
        ("speckle", "medium", _speckled(45, 0.6)),
        ("speckle", "heavy", _speckled(110, 1.5)),
        ("faint", "ink .45 light .85", _faint(0.45, 0.85)),
        ("faint", "ink .25 light .7", _faint(0.25, 0.7)),
        ("faint", "ink .14 light .55", _faint(0.14, 0.55)),
        ("lowres", "150dpi blur", _lowres(150, 1.0)),
        ("lowres", "110dpi blur", _lowres(110, 1.4)),
        ("lowres", "85dpi blur", _lowres(85, 1.8)),
        ("jpeg", "q30 200dpi", _jpeg(30, 200)),
        ("jpeg", "q15 150dpi", _jpeg(15, 150)),
        ("jpeg", "q8 120dpi", _jpeg(8, 120)),
    ]
    out = [Cell("clean", "-", _identity, (0, 1))]
    for n, (cond, strength, fn) in enumerate(spec):
        picked = (0, 1) if cond == "rotate" else ((2 * n) % bases, (2 * n + 1) % bases)
        out.append(Cell(cond, strength, fn, picked))
    return out


# --- readers ----------------------------------------------------------------------------


def plain_tesseract(image: Path) -> str:
    """``tesseract IMG stdout`` with its defaults, single-threaded; cached by content."""
    digest = hashlib.sha256(image.read_bytes()).hexdigest()[:32]
    hit = CACHE / f"{digest}.txt"
    if hit.exists():
        return hit.read_text(encoding="utf-8")
    env = dict(os.environ, OMP_THREAD_LIMIT="1")
    out = subprocess.run(["tesseract", str(image), "stdout"], capture_output=True, env=env, check=True)
    text = out.stdout.decode("utf-8", "replace")
    CACHE.mkdir(parents=True, exist_ok=True)
    hit.write_text(text, encoding="utf-8")
    return text


def _settings_with(**changes: Any) -> OcrSettings:
    """Default settings with the preprocessing fields that exist in this version changed."""
    fields = {f.name for f in dataclasses.fields(Preprocess)}
    pre = dataclasses.replace(Preprocess(), **{k: v for k, v in changes.items() if k in fields})
    return OcrSettings(preprocess=pre)


def legacy_engine() -> TesseractEngine:
    """ocr-fix as it read pages before issue 10: no orientation, masking, page-level
    choice of treatment or safety net, skew searched within 5 degrees."""
    return TesseractEngine(
        _settings_with(orient=False, mask=False, adaptive=False, safety=False, max_skew=5.0)
    )


def _cpu() -> float:
    """CPU seconds of this process and its finished children (the Tesseract runs)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def ocr_fix_text(
    engine: TesseractEngine, image: Path, cpu: list[float] | None = None
) -> tuple[str, float, dict[str, Any]]:
    """Text, wall seconds and decisions of ocr-fix's reading of one page; its CPU
    seconds (with Tesseract's) are appended to ``cpu`` when given."""
    ref = PageRef(path=image, frame=0, number=1)
    t0, c0 = time.perf_counter(), _cpu()
    page = engine.recognise(ref)
    seconds = time.perf_counter() - t0
    if cpu is not None:
        cpu.append(_cpu() - c0)
    info: dict[str, Any] = {
        "rot": getattr(page, "rotation", 0),
        "skew": getattr(page, "skew", 0.0),
        "kept": getattr(page, "variant", "first"),
        "bars": len(getattr(page, "redactions", ())),
    }
    return page.text(), seconds, info


def _fonts() -> list[str | None]:
    """The typewriter fonts synth offers that are installed (None: its default)."""
    out: list[str | None] = []
    for name in getattr(synth, "TYPEWRITER_FONTS", ()):
        try:
            synth.find_font(name)
        except BadInput:  # not installed here: the benchmark uses the others
            continue
        out.append(name)
    return out or [None]


def _render(stem: str, font: str | None) -> tuple[np.ndarray, str]:
    lines = synth.read_gt(GOLDEN / f"{stem}.gt.txt")[:LINES]
    kwargs: dict[str, Any] = {"seed": SEED, "degrade": synth.Degrade.LIGHT}
    if font is not None:
        kwargs["font"] = font
    img = synth.render_page(lines, stem, synth.SynthSettings(**kwargs))
    return img, "\n".join(lines)


def _micro(pairs: list[tuple[str, str]]) -> tuple[float, int]:
    """(edits, ground-truth characters) summed over (gt, ocr) pairs."""
    edits = 0.0
    chars = 0
    for gt, ocr in pairs:
        n = len(normalise(gt))
        edits += cer(gt, ocr) * n
        chars += n
    return edits, chars


def _clean_time_ratio(engine: TesseractEngine, images: list[Path], rounds: int = 2) -> dict[str, float]:
    """Time per clean page, ocr-fix now vs the legacy preprocessing, runs interleaved in
    this process: CPU seconds (this process and its Tesseract children: what the page
    costs, little disturbed by other jobs on shared cores) and wall seconds."""
    legacy = legacy_engine()
    now: list[float] = []
    old: list[float] = []
    now_cpu: list[float] = []
    old_cpu: list[float] = []
    for _ in range(rounds):
        for image in images:
            old.append(ocr_fix_text(legacy, image, old_cpu)[1])
            now.append(ocr_fix_text(engine, image, now_cpu)[1])

    def best(values: list[float]) -> float:
        # Per page, the least of the rounds (least disturbed by the other jobs).
        return sum(min(values[i :: len(images)]) for i in range(len(images))) / len(images)

    return {
        "now_cpu_s": round(best(now_cpu), 3),
        "legacy_cpu_s": round(best(old_cpu), 3),
        "cpu_ratio": round(best(now_cpu) / max(1e-9, best(old_cpu)), 3),
        "now_s": round(best(now), 3),
        "legacy_s": round(best(old), 3),
        "ratio": round(best(now) / max(1e-9, best(old)), 3),
    }


def _real_pages(engine: TesseractEngine) -> dict[str, Any]:
    images = [p for s in REAL_SETS if (REALDATA / s).is_dir() for p in sorted((REALDATA / s).glob("*.jpg"))]
    if not images:
        return {}
    plain: list[tuple[str, str]] = []
    fixed: list[tuple[str, str]] = []
    rows = []
    for image in images:
        gt = image.with_suffix(".gt.txt").read_text(encoding="utf-8")
        p = plain_tesseract(image)
        f, seconds, info = ocr_fix_text(engine, image)
        plain.append((gt, p))
        fixed.append((gt, f))
        rows.append((image.stem, cer(gt, p), cer(gt, f), seconds, info))
    pe, chars = _micro(plain)
    fe, _ = _micro(fixed)
    print(f"\n{'real page':<28}{'plain':>8}{'ocr-fix':>9}{'s':>7}  decisions")
    for stem, pc, fc, s, info in rows:
        print(f"{stem:<28}{pc:>8.3f}{fc:>9.3f}{s:>7.2f}  {_brief(info)}")
    print(f"{'micro CER':<28}{pe / chars:>8.3f}{fe / chars:>9.3f}")
    return {
        "pages": len(images),
        "cer_plain": round(pe / chars, 4),
        "cer_ocr_fix": round(fe / chars, 4),
        "per_page": {stem: {"plain": round(pc, 4), "ocr_fix": round(fc, 4)} for stem, pc, fc, _, _ in rows},
    }


def _brief(info: dict[str, Any]) -> str:
    """The decisions that differ from a plain first reading, e.g. ``rot=90 skew=-4.9``."""
    shown = {k: v for k, v in info.items() if v not in (0, 0.0, "first")}
    return " ".join(f"{k}={v}" for k, v in shown.items()) or "-"


def run(quick: bool = False, only: tuple[str, ...] = ()) -> dict[str, Any]:
    engine = TesseractEngine()
    fonts = _fonts()
    # Ten pages: every font twice, every ground-truth page two or three times, and the
    # two pages of a cell in different fonts.
    bases = [(GT_PAGES[i % len(GT_PAGES)], fonts[i % len(fonts)]) for i in range(BASES)]
    # Few pages per cell keep the run to minutes on shared cores; fonts and pages rotate
    # through the cells.
    rendered = [_render(stem, font) for stem, font in bases]
    results: list[dict[str, Any]] = []
    print(f"{'condition':<9}{'strength':<22}{'pages':>5}{'plain':>8}{'ocr-fix':>9}{'s/page':>8}  decisions")
    with tempfile.TemporaryDirectory(prefix="ocr-fix-degrade-") as tmp:
        clean_images: list[Path] = []
        for n, cell in enumerate(cells(len(rendered))):
            if only and cell.condition not in only:
                continue
            plain_pairs: list[tuple[str, str]] = []
            fix_pairs: list[tuple[str, str]] = []
            seconds: list[float] = []
            notes: list[str] = []
            for i, b in enumerate(cell.bases):
                img, gt = rendered[b]
                rng = np.random.default_rng([SEED, n, i])
                damaged = cell.damage(img, rng, i)
                path = Path(tmp) / f"{n:02d}-{i}.png"
                cv2.imwrite(str(path), damaged)
                if cell.condition == "clean":
                    clean_images.append(path)
                plain_pairs.append((gt, plain_tesseract(path)))
                text, s, info = ocr_fix_text(engine, path)
                fix_pairs.append((gt, text))
                seconds.append(s)
                notes.append(_brief(info))
            pe, chars = _micro(plain_pairs)
            fe, _ = _micro(fix_pairs)
            row = {
                "condition": cell.condition,
                "strength": cell.strength,
                "pages": len(cell.bases),
                "chars": chars,
                "errors_plain": round(pe, 1),
                "errors_ocr_fix": round(fe, 1),
                "cer_plain": round(pe / chars, 4),
                "cer_ocr_fix": round(fe / chars, 4),
                "seconds_per_page": round(sum(seconds) / len(seconds), 2),
                "decisions": notes,
            }
            results.append(row)
            print(
                f"{cell.condition:<9}{cell.strength:<22}{row['pages']:>5}{row['cer_plain']:>8.3f}"
                f"{row['cer_ocr_fix']:>9.3f}{row['seconds_per_page']:>8.2f}  {' | '.join(notes)}",
                flush=True,
            )
        if only:
            return {"cells": results}
        timing = _clean_time_ratio(engine, clean_images)

    degraded = [r for r in results if r["condition"] != "clean"]
    total_plain = sum(r["errors_plain"] for r in degraded)
    total_fix = sum(r["errors_ocr_fix"] for r in degraded)
    clean = results[0]["cer_ocr_fix"]
    rotations = {r["strength"]: r["cer_ocr_fix"] for r in results if r["condition"] == "rotate"}
    worse = [f"{r['condition']} {r['strength']}" for r in degraded if r["cer_ocr_fix"] > r["cer_plain"]]
    summary: dict[str, Any] = {
        "fonts": [f or "default" for f in fonts],
        "cells": results,
        "errors_plain": round(total_plain, 1),
        "errors_ocr_fix": round(total_fix, 1),
        "errors_ratio": round(total_fix / max(1e-9, total_plain), 3),
        "cells_worse_than_plain": worse,
        "rotated_vs_upright": {k: round(v / max(clean, 1e-4), 2) for k, v in rotations.items()},
        "clean_time": timing,
    }
    print(
        f"\ndegraded cells: character errors plain {total_plain:.0f}, ocr-fix {total_fix:.0f} "
        f"(ratio {summary['errors_ratio']:.3f}); cells where ocr-fix is worse: {worse or 'none'}"
    )
    print(f"rotated CER / upright CER ({clean:.4f}): {summary['rotated_vs_upright']}")
    print(
        f"clean page: CPU {timing['now_cpu_s']:.2f} s now vs {timing['legacy_cpu_s']:.2f} s with the old "
        f"preprocessing (ratio {timing['cpu_ratio']:.3f}); wall {timing['now_s']:.2f} vs "
        f"{timing['legacy_s']:.2f} s (ratio {timing['ratio']:.3f}); same process, least of 2 rounds"
    )
    if not quick:
        summary["real"] = _real_pages(engine)
    return summary


if __name__ == "__main__":
    import json

    args = sys.argv[1:]
    chosen = tuple(args[args.index("--only") + 1].split(",")) if "--only" in args else ()
    print(json.dumps(run(quick="--quick" in args, only=chosen), indent=2, default=str))
