"""Cold ``check`` on the 20 bundled pages against plain parallel Tesseract on the same
pages, as a ratio measured in one run; the warm rerun; what the verifier costs.

* plain: ``OMP_THREAD_LIMIT=1 tesseract IMG stdout`` for every page, ``cores`` at a time
  (threads only start the processes) — what any script running Tesseract in parallel
  pays for the pages alone;
* check: :func:`ocr_fix.pipeline.check` of the bundled transcript with its lexicon and a
  fresh, empty OCR cache: preprocessing, the process pool, the verifier, second readings
  of disputed lines, the layout retry, alignment and the decisions. Its progress
  callback times the stages: ``ocr`` (from the start of the check to the last page
  read), ``verifier`` and ``reread`` (second readings);
* warm: the same check again on the cache the cold one filled (seconds per 20 pages);
* verifier alone: the check once more with the OCR and second readings cached but the
  verifier's scores not, the verifier once in this process (``in-process``, how it ran
  before it had workers) and once on a pool of ``cores`` workers already started
  (``pooled``, how a cold check runs it); their ratio is what the pool saves.

The plain and check runs are interleaved (plain, check, plain, check, ..., plain) and
each check is divided by the mean of the plain runs just before and after it, so load
from other processes on the machine shifts both sides alike; the spread of those
ratios is the noise of the measurement. The verifier's share is its seconds over the
OCR's in the same cold check.

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

from ocr_fix.distributed import WorkerPool  # noqa: E402
from ocr_fix.pipeline import CheckOptions, OcrRun, check  # noqa: E402
from ocr_fix.verifier import load_verifier  # noqa: E402

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


class Stages:
    """A progress callback that notes when each stage was last heard of and when the
    ``verifier`` and ``reread`` stages started."""

    def __init__(self) -> None:
        self.t0 = time.perf_counter()
        self.last: dict[str, float] = {}
        self.first: dict[str, float] = {}

    def __call__(self, stage: str, done: int, total: int) -> None:
        now = time.perf_counter() - self.t0
        self.first.setdefault(stage, now)
        self.last[stage] = now

    def seconds(self, stage: str) -> float:
        """Wall seconds of ``stage``; ``ocr`` counts from the start of the check."""
        if stage not in self.last:
            return 0.0
        return self.last[stage] - (0.0 if stage == "ocr" else self.first[stage])


def timed_check(cache_dir: Path, cores: int, options: CheckOptions | None = None) -> tuple[float, Stages]:
    """Wall seconds of a check of the bundled document, and its stages."""
    stages = Stages()
    check(
        DOC / "transcript.md",
        [DOC],
        [LEXICON],
        OcrRun(jobs=cores, cache_dir=cache_dir),
        progress=stages,
        options=options or CheckOptions(),
    )
    return time.perf_counter() - stages.t0, stages


def cold_and_warm(cores: int) -> dict[str, float]:
    """A check of the bundled document with an empty OCR cache, then again on the cache
    it filled, then twice with the verifier's scores uncached (in this process, pooled)."""
    with tempfile.TemporaryDirectory(prefix="ocr-fix-speed-") as tmp:
        cold, stages = timed_check(Path(tmp), cores)
        warm, _ = timed_check(Path(tmp), cores)
        _, alone = timed_check(Path(tmp), cores, CheckOptions(verifier=load_verifier(None)))
        with WorkerPool(cores) as pool:
            pool.executor(cores)  # started, as the page OCR of a cold check leaves them
            _, pooled = timed_check(Path(tmp), cores, CheckOptions(verifier=load_verifier(None, pool)))
    return {
        "cold": cold,
        "warm": warm,
        "ocr": stages.seconds("ocr"),
        "verifier": stages.seconds("verifier"),
        "reread": stages.seconds("reread"),
        "verifier_in_process": alone.seconds("verifier"),
        "verifier_pooled": pooled.seconds("verifier"),
    }


def run(rounds: int = 2) -> dict:
    images = sorted(DOC.glob("*.png"))
    cores = os.cpu_count() or 1
    plain = [plain_parallel(images, cores)]
    runs: list[dict[str, float]] = []
    for _ in range(rounds):
        runs.append(cold_and_warm(cores))
        plain.append(plain_parallel(images, cores))
    ratios = [r["cold"] / ((plain[i] + plain[i + 1]) / 2) for i, r in enumerate(runs)]

    def median(key: str) -> float:
        return statistics.median(r[key] for r in runs)

    per_20 = 20 / len(images)
    result = {
        "cores": cores,
        "pages": len(images),
        "plain_parallel_s": [round(p, 2) for p in plain],
        "cold_check_s": [round(r["cold"], 2) for r in runs],
        "ratios": [round(r, 3) for r in ratios],
        "ratio_median": round(statistics.median(ratios), 3),
        "plain_spread": round((max(plain) - min(plain)) / statistics.mean(plain), 3),
        "warm_s_per_20_pages": round(median("warm") * per_20, 3),
        "ocr_s": round(median("ocr"), 2),
        "verifier_s": round(median("verifier"), 2),
        "reread_s": round(median("reread"), 2),
        "verifier_share_of_ocr": round(statistics.median(r["verifier"] / r["ocr"] for r in runs), 3),
        "verifier_pooled_over_in_process": round(
            statistics.median(r["verifier_pooled"] / r["verifier_in_process"] for r in runs), 3
        ),
    }
    print(f"{'cold check / plain parallel tesseract':<42}{result['ratio_median']:>8.3f}")
    print(f"{'ratios per round':<42}{result['ratios']}")
    print(f"{'plain runs (s), spread':<42}{result['plain_parallel_s']} {result['plain_spread']:.1%}")
    print(f"{'warm rerun (s per 20 pages)':<42}{result['warm_s_per_20_pages']:>8.3f}")
    print(
        f"{'cold check stages (s): ocr, verifier, reread':<42}"
        f"{result['ocr_s']:>8.2f}{result['verifier_s']:>8.2f}{result['reread_s']:>8.2f}"
    )
    print(f"{'verifier / ocr seconds':<42}{result['verifier_share_of_ocr']:>8.3f}")
    print(f"{'verifier pooled / in one process':<42}{result['verifier_pooled_over_in_process']:>8.3f}")
    return result


if __name__ == "__main__":
    run(int(sys.argv[1]) if len(sys.argv) > 1 else 2)
