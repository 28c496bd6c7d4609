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

On a machine others load too, wall times say little about parallel work; CPU seconds
(this process and every process it started, Tesseract included) are steadier: the
cold check's against plain Tesseract's on the same pages is the ratio the wall times
reach when the cores are the only limit, and the verifier's CPU seconds (in this
process, on the uncached run) are its cost beside the OCR's.

Where the cold check's CPU goes (``budget``): one more cold check whose Tesseract runs
through a shell wrapper that notes each run's CPU seconds (bash's ``times``, a few
milliseconds of its own), split into the page OCR, the second readings (single-line mode)
and any other run (orientation, the version and language probes), and the rest: this
process's Python and the workers' (preprocessing, decoding, the verifier, start-up). Plain
Tesseract's CPU seconds on the same pages are the unit, so each part reads as its share of
the ratio.

Run: ``.venv/bin/python bench/bench_speed.py [ROUNDS]`` or ``bench/run.py speed``.
"""

from __future__ import annotations

import os
import resource
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

if TYPE_CHECKING:
    from ocr_fix.ocr.engine import OcrEngine
    from ocr_fix.pipeline import CheckOptions

# ocr_fix is imported inside the functions, not here: run as a script, this module is
# the ``__main__`` that every spawned OCR worker imports again, and the pipeline's imports
# (0.2-0.4 CPU-s a worker) would then be counted against the check although neither
# ``python -m ocr_fix`` nor ``bench/run.py speed`` has its workers pay them.

DOC = ROOT / "scans" / "psis-400-23"
LEXICON = ROOT / "lexicons" / "psis-400-23.txt"


def cpu_seconds() -> float:
    """CPU seconds of this process and of every child process reaped so far (the
    workers of a closed pool, Tesseract processes, and what they started)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def plain_parallel(images: list[Path], cores: int) -> tuple[float, float]:
    """Wall and CPU seconds of plain single-threaded Tesseract over ``images``, ``cores``
    at a time."""
    env = dict(os.environ, OMP_THREAD_LIMIT="1")

    def one(image: Path) -> None:
        subprocess.run(["tesseract", str(image), "stdout"], capture_output=True, env=env, check=True)

    t0, c0 = time.perf_counter(), cpu_seconds()
    with ThreadPoolExecutor(max_workers=cores) as pool:
        list(pool.map(one, images))
    return time.perf_counter() - t0, cpu_seconds() - c0


class Stages:
    """A progress callback that notes when each stage was last heard of and when the
    ``verifier`` and ``reread`` stages started."""

    def __init__(self) -> None:
        self.t0 = time.perf_counter()
        self.last: dict[str, float] = {}
        self.first: dict[str, float] = {}
        self.cpu: dict[str, float] = {}  # this process's CPU seconds in the stage

    def __call__(self, stage: str, done: int, total: int) -> None:
        now = time.perf_counter() - self.t0
        if stage not in self.first:
            self.first[stage] = now
            self.cpu[stage] = -time.process_time()
        elif stage in self.cpu and done == total:
            self.cpu[stage] += time.process_time()
        self.last[stage] = now

    def seconds(self, stage: str) -> float:
        """Wall seconds of ``stage``; ``ocr`` counts from the start of the check."""
        if stage not in self.last:
            return 0.0
        return self.last[stage] - (0.0 if stage == "ocr" else self.first[stage])


def timed_check(
    cache_dir: Path, cores: int, options: CheckOptions | None = None
) -> tuple[float, Stages, float]:
    """Wall seconds of a check of the bundled document, its stages, and the CPU seconds
    it took here and in its workers and Tesseract processes."""
    from ocr_fix.pipeline import CheckOptions, OcrRun, check

    c0 = cpu_seconds()
    stages = Stages()
    check(
        DOC / "transcript.md",
        [DOC],
        [LEXICON],
        OcrRun(jobs=cores, cache_dir=cache_dir),
        progress=stages,
        options=options or CheckOptions(),
    )
    return time.perf_counter() - stages.t0, stages, cpu_seconds() - c0


#: Runs Tesseract as asked, then appends one line to the log: the arguments and what bash's
#: ``times`` says of its children (user and system seconds; its second line). ``times``
#: in a subshell would see none of them, so it goes through a file.
WRAPPER = """#!/bin/bash
{real} "$@"
rc=$?
times > {log}.$$
t=$(tail -n 1 {log}.$$)
rm -f {log}.$$
printf '%s\\t%s\\n' "$*" "$t" >> {log}
exit $rc
"""


def _seconds(field: str) -> float:
    """Seconds of bash's ``times`` field (``1m2.345s``)."""
    minutes, _, rest = field.partition("m")
    return 60 * float(minutes) + float(rest.rstrip("s"))


def tesseract_cpu(log: Path) -> dict[str, float]:
    """CPU seconds and process counts of the Tesseract runs in ``log`` (see
    :data:`WRAPPER`): page OCR, second readings (``--psm 7``), other."""
    out = {"pages": 0.0, "pages_runs": 0.0, "reread": 0.0, "reread_runs": 0.0, "other": 0.0}
    for line in log.read_text(encoding="utf-8").splitlines():
        args, _, times = line.partition("\t")
        words = args.split()
        user, system = (_seconds(f) for f in times.split())
        psm = words[words.index("--psm") + 1] if "--psm" in words else None
        kind = "other" if psm is None or "osd" in words else ("reread" if psm == "7" else "pages")
        out[kind] += user + system
        if kind != "other":
            out[f"{kind}_runs"] += 1
    return out


#: The parts of :func:`budget` reported as shares of plain Tesseract's CPU seconds.
BUDGET_PARTS = ("total", "pages", "reread", "other", "workers", "here")


def budget(cores: int) -> dict[str, float]:
    """CPU seconds of one cold check by part: Tesseract (page OCR, second readings,
    other runs) through :data:`WRAPPER`, this process, and the workers' own (everything
    else they and their children used)."""
    from dataclasses import replace

    from ocr_fix.ocr.tesseract import TESSERACT, TesseractEngine
    from ocr_fix.pipeline import OcrRun, check, engine_for

    real = shutil.which(TESSERACT)
    if real is None:
        raise SystemExit("tesseract is not installed")
    with tempfile.TemporaryDirectory(prefix="ocr-fix-budget-") as tmp:
        log = Path(tmp) / "tesseract.log"
        log.touch()
        wrapper = Path(tmp) / "tesseract"
        script = WRAPPER.format(real=shlex.quote(real), log=shlex.quote(str(log)))
        wrapper.write_text(script, encoding="utf-8")
        wrapper.chmod(0o755)

        def engines(lang: str, psm: int | None) -> OcrEngine:
            """:func:`~ocr_fix.pipeline.engine_for`'s engine, through the wrapper."""
            engine = engine_for(lang, psm)
            assert isinstance(engine, TesseractEngine)
            return replace(engine, binary=str(wrapper))

        own0 = resource.getrusage(resource.RUSAGE_SELF)
        total0 = cpu_seconds()
        check(
            DOC / "transcript.md",
            [DOC],
            [LEXICON],
            OcrRun(jobs=cores, cache_dir=Path(tmp) / "cache", engines=engines),
        )
        own1 = resource.getrusage(resource.RUSAGE_SELF)
        total = cpu_seconds() - total0
        parts = tesseract_cpu(log)
    here = own1.ru_utime + own1.ru_stime - own0.ru_utime - own0.ru_stime
    tesseract = parts["pages"] + parts["reread"] + parts["other"]
    return {**parts, "total": total, "here": here, "workers": total - here - tesseract}


def cold_and_warm(cores: int) -> dict[str, float]:
    """A check of the bundled document with an empty OCR cache, then again on the cache
    it filled, then twice with the verifier's scores uncached (in this process, pooled)."""
    from ocr_fix.distributed import WorkerPool
    from ocr_fix.pipeline import CheckOptions
    from ocr_fix.verifier import load_verifier

    with tempfile.TemporaryDirectory(prefix="ocr-fix-speed-") as tmp:
        cold, stages, cold_cpu = timed_check(Path(tmp), cores)
        warm, _, _ = timed_check(Path(tmp), cores)
        _, alone, _ = timed_check(Path(tmp), cores, CheckOptions(verifier=load_verifier(None)))
        with WorkerPool(cores) as pool:
            pool.executor(cores)  # started, as the page OCR of a cold check leaves them
            _, pooled, _ = timed_check(Path(tmp), cores, CheckOptions(verifier=load_verifier(None, pool)))
    return {
        "cold": cold,
        "cold_cpu": cold_cpu,
        "verifier_cpu": alone.cpu.get("verifier", 0.0),
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
    load_before = os.getloadavg()[0]
    timed = [plain_parallel(images, cores)]
    runs: list[dict[str, float]] = []
    for _ in range(rounds):
        runs.append(cold_and_warm(cores))
        timed.append(plain_parallel(images, cores))
    parts = budget(cores)
    timed.append(plain_parallel(images, cores))
    plain = [wall for wall, _ in timed]
    plain_cpu = statistics.mean(cpu for _, cpu in timed)
    ratios = [r["cold"] / ((plain[i] + plain[i + 1]) / 2) for i, r in enumerate(runs)]

    def median(key: str) -> float:
        return statistics.median(r[key] for r in runs)

    per_20 = 20 / len(images)
    result = {
        "cores": cores,
        # Other processes' load (1-minute average) when the run began and ended: a ratio
        # measured while the machine was busy is noisier, and says so.
        "load_average": [round(load_before, 2), round(os.getloadavg()[0], 2)],
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
        "plain_cpu_s": round(plain_cpu, 1),
        "cold_cpu_over_plain_cpu": round(median("cold_cpu") / plain_cpu, 3),
        "verifier_cpu_s": round(median("verifier_cpu"), 2),
        "verifier_cpu_share_of_plain_cpu": round(median("verifier_cpu") / plain_cpu, 3),
        "budget_cpu_s": {k: round(v, 2) for k, v in parts.items()},
        "budget_over_plain_cpu": {k: round(parts[k] / plain_cpu, 3) for k in BUDGET_PARTS},
        "verifier_pooled_over_in_process": round(
            statistics.median(r["verifier_pooled"] / r["verifier_in_process"] for r in runs), 3
        ),
    }
    print(f"{'load average at start, end (1 min)':<42}{result['load_average']}")
    print(f"{'cold check / plain parallel tesseract':<42}{result['ratio_median']:>8.3f}")
    print(f"{'ratios per round':<42}{result['ratios']}")
    print(f"{'plain runs (s), spread':<42}{result['plain_parallel_s']} {result['plain_spread']:.1%}")
    print(f"{'warm rerun (s per 20 pages)':<42}{result['warm_s_per_20_pages']:>8.3f}")
    print(
        f"{'cold check stages (s): ocr, verifier, reread':<42}"
        f"{result['ocr_s']:>8.2f}{result['verifier_s']:>8.2f}{result['reread_s']:>8.2f}"
    )
    print(f"{'verifier / ocr seconds':<42}{result['verifier_share_of_ocr']:>8.3f}")
    print(f"{'cold check CPU / plain tesseract CPU':<42}{result['cold_cpu_over_plain_cpu']:>8.3f}")
    print(
        f"{'verifier CPU s, share of plain tesseract CPU':<42}"
        f"{result['verifier_cpu_s']:>8.2f}{result['verifier_cpu_share_of_plain_cpu']:>8.3f}"
    )
    print(f"{'verifier pooled / in one process':<42}{result['verifier_pooled_over_in_process']:>8.3f}")
    share = result["budget_over_plain_cpu"]
    print(
        f"{'budget, x plain tesseract CPU: total':<42}{share['total']:>8.3f}\n"
        f"{'  tesseract: pages, second readings, other':<42}"
        f"{share['pages']:>8.3f}{share['reread']:>8.3f}{share['other']:>8.3f}"
        f"   ({parts['pages_runs']:.0f} and {parts['reread_runs']:.0f} processes)\n"
        f"{'  python: workers, this process':<42}{share['workers']:>8.3f}{share['here']:>8.3f}"
    )
    return result


if __name__ == "__main__":
    run(int(sys.argv[1]) if len(sys.argv) > 1 else 2)
