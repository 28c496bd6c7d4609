"""Benchmark the ``ocr-fix score`` core against dinglehopper.

Workloads:

* ``golden``: the 20 PSIS 400-23 ground-truth pages against a deterministic OCR-like
  perturbation of themselves (or against real Tesseract output of the page scans, when
  scans/psis-400-23/*.png exist, tesseract is installed and ``--tesseract`` is given);
* ``200pages``: 200 generated pages (shuffled golden lines, different damage per page).

Both sides do the same work per page: normalise, character error rate, word error rate
(ours also collects the confusions and keeps every PageScore until it summarises, so its
peak memory grows with the page count). Times are the best of a few runs; peak memory
is measured in a separate run under tracemalloc, which sees Python allocations only
(rapidfuzz's C buffers are invisible to it, on both sides alike). The CER columns are
micro rates (total errors / total reference length) and must agree.

Run: ``.venv/bin/python bench/bench_score.py [--tesseract]``.
"""

from __future__ import annotations

import math
import random
import shutil
import sys
import time
import tracemalloc
from collections.abc import Callable, Sequence
from pathlib import Path

from dinglehopper.character_error_rate import character_error_rate_n
from dinglehopper.word_error_rate import word_error_rate_n, words_normalized

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ocr_fix.metrics import normalise, score_pair, summarise  # noqa: E402
from tests.fakes import perturb  # noqa: E402 - the tests' deterministic OCR-like damage

GOLDEN = ROOT / "golden" / "psis-400-23"
SCANS = ROOT / "scans" / "psis-400-23"

Pairs = list[tuple[str, str, str]]


def golden_pairs() -> Pairs:
    pages = sorted(GOLDEN.glob("*.gt.txt"))
    return [(p.name[:-7], t, perturb(t, seed=i)) for i, p in enumerate(pages) for t in [p.read_text("utf-8")]]


def tesseract_pairs() -> Pairs | None:
    """Golden pages against ``ocr-fix ocr`` of the bundled scans (cached OCR), if the
    scans and Tesseract are there."""
    images = sorted(SCANS.glob("*.png"))
    if not images or shutil.which("tesseract") is None:
        return None
    from ocr_fix.pipeline import cache_for, engine_for, scan_ocr

    pages = scan_ocr(engine_for(), cache_for(False, None))([SCANS], lambda *a: None)
    pairs: Pairs = []
    for page in pages:
        gt_file = GOLDEN / f"{page.ref.stem}.gt.txt"
        if gt_file.exists():
            pairs.append((page.ref.stem, gt_file.read_text("utf-8"), page.text()))
    return pairs or None


def generated_pairs(pages: int = 200, seed: int = 400) -> Pairs:
    rng = random.Random(seed)
    lines = [
        ln for p in sorted(GOLDEN.glob("*.gt.txt")) for ln in p.read_text("utf-8").splitlines() if ln.strip()
    ]
    pairs: Pairs = []
    for n in range(pages):
        gt = "\n".join(rng.sample(lines, 40))
        pairs.append(
            (f"{n + 1:03d}", gt, perturb(gt, seed=rng.randrange(2**32), rate=rng.uniform(0.005, 0.1)))
        )
    return pairs


def ours(pairs: Pairs) -> float:
    return summarise([score_pair(gt, ocr, name) for name, gt, ocr in pairs]).cer


def dinglehopper(pairs: Pairs) -> float:
    errors = total = 0.0
    for _, gt, ocr in pairs:
        gt_n, ocr_n = normalise(gt), normalise(ocr)
        rate, n = character_error_rate_n(gt_n, ocr_n)
        # word_error_rate_n(str, str) is ambiguous under the installed multimethod, so
        # split into words first, exactly as that overload does.
        word_error_rate_n(list(words_normalized(gt_n)), list(words_normalized(ocr_n)))
        errors += rate * n
        total += n
    return errors / total


def _best_time(fn: Callable[[Pairs], float], pairs: Pairs, repeat: int) -> tuple[float, float]:
    best = math.inf
    result = math.nan
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn(pairs)
        best = min(best, time.perf_counter() - start)
    return best, result


def _peak(fn: Callable[[Pairs], float], pairs: Pairs) -> int:
    tracemalloc.start()
    try:
        fn(pairs)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def measure(name: str, pairs: Pairs, repeat: int = 5) -> dict[str, float | int | str]:
    """Ours is timed ``repeat`` times, dinglehopper once: it is 60-70x slower, so its
    single run is long enough that the noise is small."""
    ours(pairs[:1]), dinglehopper(pairs[:1])  # warm-up: imports, uniseg tables
    t_ours, cer_ours = _best_time(ours, pairs, repeat)
    t_dh, cer_dh = _best_time(dinglehopper, pairs, 1)
    if abs(cer_ours - cer_dh) > 1e-9:
        raise AssertionError(f"{name}: CER differs: ocr-fix {cer_ours!r}, dinglehopper {cer_dh!r}")
    return {
        "workload": name,
        "pages": len(pairs),
        "chars": sum(len(normalise(gt)) for _, gt, _ in pairs),
        "ours_s": t_ours,
        "dinglehopper_s": t_dh,
        "speedup": t_dh / t_ours,
        "ours_peak_kib": _peak(ours, pairs) // 1024,
        "dinglehopper_peak_kib": _peak(dinglehopper, pairs) // 1024,
        "cer_ours": cer_ours,
        "cer_dinglehopper": cer_dh,
    }


def run(use_tesseract: bool = True) -> dict[str, dict[str, float | int | str]]:
    """Measure every workload, print the table; returns {workload: numbers}. The 20-page
    workload is the bundled pages against their OCR when Tesseract is there, else
    against a deterministic perturbation."""
    first = tesseract_pairs() if use_tesseract else None
    workloads: list[tuple[str, Pairs]] = [
        ("golden-tesseract", first) if first else ("golden-perturbed", golden_pairs()),
        ("200pages", generated_pairs()),
    ]
    results = {name: measure(name, pairs) for name, pairs in workloads}
    _print(results)
    return results


def _print(results: dict[str, dict[str, float | int | str]]) -> None:
    header = (
        f"{'workload':<18}{'pages':>6}{'chars':>9}{'ours s':>9}{'dh s':>9}{'x faster':>9}"
        f"{'ours KiB':>10}{'dh KiB':>9}{'CER ours':>11}{'CER dh':>11}"
    )
    print(header)
    for r in results.values():
        print(
            f"{r['workload']:<18}{r['pages']:>6}{r['chars']:>9}{r['ours_s']:>9.3f}{r['dinglehopper_s']:>9.3f}"
            f"{r['speedup']:>9.1f}{r['ours_peak_kib']:>10}{r['dinglehopper_peak_kib']:>9}"
            f"{r['cer_ours']:>11.6f}{r['cer_dinglehopper']:>11.6f}"
        )


def main(argv: Sequence[str] = ()) -> None:
    run(use_tesseract="--no-tesseract" not in argv)


if __name__ == "__main__":
    main(sys.argv[1:])
