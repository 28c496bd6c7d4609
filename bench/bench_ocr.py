"""Benchmark ``ocr_pages`` (preprocessing + Tesseract + process pool + cache).

* speed: a cold run over the 20 bundled pages with a fresh cache directory, against the
  ideal of perfect parallelism over plain Tesseract, i.e. (sum of 20 plain single-threaded
  ``OMP_THREAD_LIMIT=1 tesseract IMG stdout`` runs, timed here) / cores. A ratio near 1
  means preprocessing and the pool cost little; below 1 means the chosen settings (psm 4
  on a cleaned page) make Tesseract itself faster than its defaults do.
* warm: the same call again, served from the cache.
* accuracy: CER of plain ``tesseract IMG stdout`` (default psm 3, no preprocessing) and of
  ocr-fix against the ground truth, on the bundled pages and, when ../shared/realdata is
  there, on the real EHRI typewritten scans (whose ground truth is partial on some
  pages: the untranscribed letterheads inflate both CERs alike).

CER is the micro rate: total edits / total ground-truth characters, after NFC and
folding whitespace runs to one space (:func:`ocr_fix.metrics.cer`).

Run: ``.venv/bin/python bench/bench_ocr.py``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ocr_fix.metrics import cer, normalise  # noqa: E402
from ocr_fix.ocr.cache import OcrCache  # noqa: E402
from ocr_fix.ocr.scheduler import ocr_pages  # noqa: E402
from ocr_fix.ocr.tesseract import TesseractEngine  # noqa: E402
from ocr_fix.scans import expand_scans  # noqa: E402

SCANS = ROOT / "scans" / "psis-400-23"
GOLDEN = ROOT / "golden" / "psis-400-23"
EHRI = ROOT.parent / "shared" / "realdata" / "ehri_english_typewritten"


def plain_tesseract(image: Path) -> tuple[str, float]:
    """Text and wall time of one plain single-threaded Tesseract run."""
    env = dict(os.environ, OMP_THREAD_LIMIT="1")
    t0 = time.perf_counter()
    out = subprocess.run(["tesseract", str(image), "stdout"], capture_output=True, env=env, check=True)
    return out.stdout.decode("utf-8", "replace"), time.perf_counter() - t0


def micro_cer(pairs: list[tuple[str, str]]) -> float:
    total = sum(len(normalise(gt)) for gt, _ in pairs)
    return sum(cer(gt, ocr) * len(normalise(gt)) for gt, ocr in pairs) / max(1, total)


def _gt_for(image: Path) -> str:
    gt = GOLDEN / f"{image.stem}.gt.txt" if image.parent == SCANS else image.with_suffix(".gt.txt")
    return gt.read_text(encoding="utf-8")


def _accuracy(
    images: list[Path], engine: TesseractEngine, plain_texts: list[str] | None = None
) -> dict[str, float]:
    if plain_texts is None:
        plain_texts = [plain_tesseract(p)[0] for p in images]
    pages = ocr_pages(expand_scans(images), engine, cache=None)
    gts = [_gt_for(p) for p in images]
    return {
        "pages": len(images),
        "cer_plain": round(micro_cer(list(zip(gts, plain_texts, strict=True))), 4),
        "cer_ocr_fix": round(micro_cer(list(zip(gts, [pg.text() for pg in pages], strict=True))), 4),
    }


def run() -> dict:
    images = sorted(SCANS.glob("*.png"))
    if not images:
        raise SystemExit(
            f"no scans in {SCANS}; render them with: ocr-fix synth golden/psis-400-23/*.gt.txt -o {SCANS}"
        )
    cores = os.cpu_count() or 1
    plain = [plain_tesseract(p) for p in images]
    serial = sum(t for _, t in plain)
    ideal = serial / cores

    engine = TesseractEngine()
    refs = expand_scans(images)
    with tempfile.TemporaryDirectory(prefix="ocr-fix-bench-") as tmp:
        cache = OcrCache(Path(tmp))
        t0 = time.perf_counter()
        pages = ocr_pages(refs, engine, cache=cache)
        cold = time.perf_counter() - t0
        t0 = time.perf_counter()
        ocr_pages(refs, engine, cache=cache)
        warm = time.perf_counter() - t0

    gts = [_gt_for(p) for p in images]
    result: dict = {
        "cores": cores,
        "pages": len(images),
        "plain_serial_s": round(serial, 2),
        "ideal_s": round(ideal, 2),
        "cold_s": round(cold, 2),
        "cold_vs_ideal": round(cold / ideal, 3),
        "warm_s": round(warm, 3),
        "bundled": {
            "pages": len(images),
            "cer_plain": round(micro_cer(list(zip(gts, [t for t, _ in plain], strict=True))), 4),
            "cer_ocr_fix": round(micro_cer(list(zip(gts, [p.text() for p in pages], strict=True))), 4),
        },
    }
    ehri = sorted(EHRI.glob("*.jpg")) if EHRI.is_dir() else []
    if ehri:
        result["ehri"] = _accuracy(ehri, engine)

    print(f"{'OCR speed':<28}{'seconds':>10}")
    print(f"{'plain tesseract, serial':<28}{serial:>10.2f}")
    print(f"{f'ideal (serial / {cores} cores)':<28}{ideal:>10.2f}")
    print(f"{'ocr-fix cold':<28}{cold:>10.2f}   ratio {cold / ideal:.2f}")
    print(f"{'ocr-fix warm (cache)':<28}{warm:>10.3f}")
    print(f"\n{'CER':<28}{'pages':>6}{'plain':>9}{'ocr-fix':>9}")
    for name in ("bundled", "ehri"):
        if name in result:
            r = result[name]
            print(f"{name:<28}{r['pages']:>6}{r['cer_plain']:>9.2%}{r['cer_ocr_fix']:>9.2%}")
    return result


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
