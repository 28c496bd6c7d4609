"""Cold ``check`` on the 20 bundled pages against plain parallel Tesseract on the same
pages, as a ratio measured in one run.

* plain: ``OMP_THREAD_LIMIT=1 tesseract IMG stdout`` for every page, ``cores`` at a time
  (threads only start the processes) — what any script running Tesseract in parallel
  pays for the pages alone;
* check: :func:`ocr_fix.pipeline.check` of the bundled transcript with its lexicon and a
  fresh, empty OCR cache: preprocessing, the process pool, second readings of disputed
  lines, the layout retry, alignment and the decisions.

The two are interleaved (plain, check, plain, check, ..., plain) and each check is
divided by the mean of the plain runs just before and after it, so load from other
processes on the machine shifts both sides alike; the spread of those ratios is the
noise of the measurement.

Run: ``.venv/bin/python bench/bench_speed.py [ROUNDS]`` or ``bench/run.py speed``.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ocr_fix.pipeline import OcrRun, check  # noqa: E402

DOC = ROOT / "scans" / "psis-400-23"
LEXICON = ROOT / "lexicons" / "psis-400-23.txt"


def plain_parallel(images: list[Path], cores: int) -> float:
    """Wall time of plain single-threaded Tesseract over ``images``, ``cores`` at a time."""
    env = dict(os.environ, OMP_THREAD_LIMIT="1")

    def one(image: Path) -> None:
        subprocess.run(["tesseract", str(image), "stdout"], capture_output=True, env=env, check=True)

    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=cores) as pool:
        list(pool.map(one, images))
    return time.perf_counter() - t0


def cold_check(cores: int) -> float:
    """Wall time of a check of the bundled document with an empty OCR cache."""
    with tempfile.TemporaryDirectory(prefix="ocr-fix-speed-") as tmp:
        t0 = time.perf_counter()
        check(DOC / "transcript.md", [DOC], [LEXICON], OcrRun(jobs=cores, cache_dir=Path(tmp)))
        return time.perf_counter() - t0


def run(rounds: int = 2) -> dict:
    images = sorted(DOC.glob("*.png"))
    cores = os.cpu_count() or 1
    plain = [plain_parallel(images, cores)]
    checks: list[float] = []
    for _ in range(rounds):
        checks.append(cold_check(cores))
        plain.append(plain_parallel(images, cores))
    ratios = [c / ((plain[i] + plain[i + 1]) / 2) for i, c in enumerate(checks)]
    result = {
        "cores": cores,
        "pages": len(images),
        "plain_parallel_s": [round(p, 2) for p in plain],
        "cold_check_s": [round(c, 2) for c in checks],
        "ratios": [round(r, 3) for r in ratios],
        "ratio_median": round(statistics.median(ratios), 3),
        "plain_spread": round((max(plain) - min(plain)) / statistics.mean(plain), 3),
    }
    print(f"{'cold check / plain parallel tesseract':<40}{result['ratio_median']:>8.3f}")
    print(f"{'ratios per round':<40}{result['ratios']}")
    print(f"{'plain runs (s), spread':<40}{result['plain_parallel_s']} {result['plain_spread']:.1%}")
    return result


if __name__ == "__main__":
    run(int(sys.argv[1]) if len(sys.argv) > 1 else 2)
