"""Run the benchmarks: ``python bench/run.py [ocr|speed|score|check|verdicts|batch|fix|verifier|audit ...]``
(default: all).

Each section lives in ``bench/bench_<name>.py`` (``audit``: ``bench/audit_real.py``) with a
``run() -> dict``; speed is always reported as a ratio against a baseline measured in the
same process, never as an absolute threshold.
"""

from __future__ import annotations

import importlib
import json
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

SECTIONS = [
    "ocr",
    "speed",
    "score",
    "check",
    "verdicts",
    "fix",
    "batch",
    "verifier",
    "lexicon",
    "audit",
    "degrade",
]
#: Sections whose module is not ``bench_<name>``.
MODULES = {"audit": "audit_real"}


def main(argv: list[str]) -> int:
    wanted = argv or SECTIONS
    results = {}
    for name in wanted:
        if name not in SECTIONS:
            print(f"unknown section {name!r}; choose from {', '.join(SECTIONS)}", file=sys.stderr)
            return 2
        try:
            module = importlib.import_module(MODULES.get(name, f"bench_{name}"))
        except ModuleNotFoundError as exc:
            print(f"[{name}] skipped: {exc}")
            continue
        t0 = time.perf_counter()
        print(f"\n######## {name} ########", flush=True)
        results[name] = module.run()
        print(f"[{name}] {time.perf_counter() - t0:.1f}s", flush=True)
    out = HERE.parent / ".bench"
    out.mkdir(exist_ok=True)
    (out / "results.json").write_text(json.dumps(results, indent=2, default=str))
    print(f"\nresults written to {out / 'results.json'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
