"""Leave-one-set-out through the real ``check`` and the official scorer.

``bench/calibrate.py`` scores its held-out candidates itself. This scores what a user
gets: for every group of injected sets, the evidence model is fitted *without* that group
(``calibrate.fit`` on the candidates ``make calibrate`` collected, thresholds chosen as
``calibrate`` chooses them), then the whole ``check`` runs with that model on the group's
sets -- injected and unaltered transcripts -- and ``../shared/tools/score_findings.py
--baseline`` scores the JSON, as in :mod:`bench_verdicts`.

Run after ``make calibrate``: ``python bench/heldout.py [--seeds 1] [--groups a,b]``.
Models go to ``.bench/verdicts/models/without-<group>.json``, reports and figures to
``.bench/verdicts/held-out/``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
for _p in (str(HERE), str(ROOT)):
    if _p not in sys.path:
        sys.path.insert(0, _p)

import bench_verdicts as bv  # noqa: E402
from sets import InjectedSet, build_sets  # noqa: E402

MODELS = bv.WORK / "models"


def _collected(seeds: Sequence[int]) -> list[dict[str, Any]]:
    import calibrate

    docs = []
    for seed in seeds:
        for p in sorted((calibrate.OUT / f"seed-{seed}").glob("*.json")):
            docs.append(json.loads(p.read_text(encoding="utf-8")))
    if not docs:
        raise SystemExit(f"no collected candidates under {calibrate.OUT}: run `make calibrate` first")
    return docs


def fit_without_each_group(seeds: Sequence[int], out: Path = MODELS) -> dict[str, Path]:
    """One model file per group, fitted on every other group's candidates."""
    import calibrate

    from ocr_fix.decide import EvidenceModel

    docs = _collected(seeds)
    calibrate.apply_audit(docs)
    calibrate.unlabel_slips(docs)
    held = calibrate.loso(docs, calibrate.REREAD)
    error, warning = calibrate.thresholds(docs, held)
    out.mkdir(parents=True, exist_ok=True)
    paths = {}
    for group in sorted({d["group"] for d in docs}):
        models = calibrate.fit([d for d in docs if d["group"] != group])
        info = {"without": group, "seeds": list(seeds)}
        model = EvidenceModel(models, error, warning, calibrate.REREAD, info)
        paths[group] = out / f"without-{group}.json"
        paths[group].write_text(json.dumps(model.to_dict(), indent=1) + "\n", encoding="utf-8")
    print(f"[held-out] {len(paths)} models, thresholds error >= {error}, warning >= {warning}")
    return paths


def reports_with(models: dict[str, Path], work: Path = bv.WORK) -> Callable[[InjectedSet], tuple[Path, Path]]:
    """``reports`` for :func:`bench_verdicts.evaluate`: check in process with the model
    fitted without the set's group (cached by transcript, scans, model and code)."""
    from ocr_fix.decide import EvidenceModel
    from ocr_fix.pipeline import CheckOptions, OcrRun, check
    from ocr_fix.report.check_json import result_dict

    code = bv._code_hash()

    def one(s: InjectedSet, transcript: Path, model_path: Path) -> Path:
        key = hashlib.sha256(
            json.dumps(
                [
                    bv._file_hash(transcript),
                    [str(p) for p in s.scans],
                    s.lang,
                    bv._file_hash(s.lexicon) if s.lexicon else None,
                    bv._file_hash(model_path),
                    code,
                ]
            ).encode()
        ).hexdigest()[:24]
        path = work / "held-out" / "reports" / f"{key}.json"
        if not path.is_file():
            model = EvidenceModel.from_dict(json.loads(model_path.read_text(encoding="utf-8")))
            result = check(
                transcript,
                list(s.scans),
                [s.lexicon] if s.lexicon else [],
                OcrRun(lang=s.lang, jobs=1),
                options=CheckOptions(model=model, language=s.lang),
            )
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(result_dict(result), ensure_ascii=False), encoding="utf-8")
        return path

    def reports(s: InjectedSet) -> tuple[Path, Path]:
        model_path = models[s.group]
        return one(s, s.transcript, model_path), one(s, s.baseline_transcript, model_path)

    return reports


def main(argv: Sequence[str]) -> int:
    ap = argparse.ArgumentParser(description="leave-one-set-out through check and the official scorer")
    ap.add_argument("--seeds", default="1", help="comma-separated seeds: collected candidates and sets")
    ap.add_argument("--groups", help="only these groups (comma-separated)")
    a = ap.parse_args(list(argv))
    seeds = [int(x) for x in a.seeds.split(",")]
    models = fit_without_each_group(seeds)
    groups = set(a.groups.split(",")) if a.groups else None
    sets = [
        s
        for seed in seeds
        for s in build_sets(ROOT, seed, groups=groups, with_real_errors=seed == seeds[0])
        if s.group in models
    ]
    # One check at a time: the checks run in this process.
    scores, summary = bv.evaluate(sets, tag="held-out", workers=1, reports=reports_with(models))
    bv.print_summary(scores, summary)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
