"""Benchmark of ``check``'s verdicts on injected-error sets (:mod:`sets`), scored by the
official ``../shared/tools/score_findings.py`` (run as a subprocess, never copied).

For every set, ``ocr-fix check --format json`` runs on the transcript with injected
errors and on the unaltered one (real OCR, cached; the set's language and lexicon). The
scorer then counts, with ``--baseline`` (findings also raised on the unaltered
transcript are left out of precision):

- recall: catalogued errors with an error/warning finding on their span;
- precision: error/warning findings that sit on a catalogued error;
- suggestion right: found errors whose suggestions give the original text back;
- error right: the same precision over ``error`` findings alone;
- recall per class (the scorer run on each class's part of the catalogue);
- flags per 1,000 words on the *unaltered* transcripts (error + warning findings: false
  alarms, or real slips of the human transcriber in ``../shared/realdata``).

Figures are given per set, per group and overall (sums of counts, not means of ratios).
Reports are cached under ``.bench/verdicts/reports`` by the hash of the transcript,
scans, settings, extra arguments and the ``ocr_fix`` sources, so a warm rerun only
scores; results go to ``.bench/verdicts/<tag>/<set>.json`` and ``summary.json``.

Run: ``python bench/run.py verdicts`` or ``python bench/bench_verdicts.py [--seed N]
[--groups a,b] [--check-arg ARG ...] [--tag NAME]``. ``--check-arg`` passes arguments
to every ``check`` (``{group}`` in one becomes the set's group): that is the hook to score
a model fitted without each group, e.g. ``--check-arg=--model
--check-arg=.bench/models/without-{group}.json``. From Python: :func:`evaluate`, or
:func:`run_check` + :func:`score_set` + :func:`summarize` with reports made any other way.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
for _p in (str(HERE), str(ROOT)):
    if _p not in sys.path:
        sys.path.insert(0, _p)

from sets import InjectedSet, build_sets  # noqa: E402

SCORER = ROOT.parent / "shared" / "tools" / "score_findings.py"
WORK = ROOT / ".bench" / "verdicts"

__all__ = ["SetScore", "evaluate", "print_summary", "run_check", "score_set", "summarize"]

_LINE = re.compile(
    r"recall (\d+)/(\d+)=\S+ precision (\S+) \((\d+) false of (\d+)\) page-right (\d+)/(\d+) "
    r"suggestion-right (\S+)"
)


@dataclass
class Counts:
    """Sums that add up across sets: ratios are computed from them at the end."""

    errors: int = 0
    found: int = 0
    counted: int = 0  # error/warning findings the scorer counts (not also on the baseline)
    false: int = 0
    suggestion_right: int = 0
    error_counted: int = 0  # the same over `error` findings alone
    error_false: int = 0

    def add(self, other: Counts) -> None:
        for k in self.__dataclass_fields__:
            setattr(self, k, getattr(self, k) + getattr(other, k))

    def ratios(self) -> dict[str, float | None]:
        def div(a: int, b: int) -> float | None:
            return round(a / b, 4) if b else None

        return {
            "recall": div(self.found, self.errors),
            "precision": div(self.counted - self.false, self.counted),
            "suggestion_right": div(self.suggestion_right, self.found),
            "error_right": div(self.error_counted - self.error_false, self.error_counted),
        }


@dataclass
class SetScore:
    name: str
    group: str
    words: int
    total: Counts
    per_class: dict[str, Counts]
    baseline_flags: int  # error/warning findings on the unaltered transcript
    missed: list[dict[str, Any]] = field(default_factory=list)
    false: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "group": self.group,
            "words": self.words,
            **self.total.ratios(),
            "counts": vars(self.total),
            "per_class": {
                k: {**v.ratios(), "n": v.errors, "found": v.found} for k, v in self.per_class.items()
            },
            "baseline_flags": self.baseline_flags,
            "baseline_flags_per_1000_words": round(1000 * self.baseline_flags / max(self.words, 1), 2),
            "missed": self.missed,
            "false": self.false,
        }


# --- running check ---------------------------------------------------------------------


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.setdefault("OMP_THREAD_LIMIT", "1")
    return env


#: Modules ``check`` never runs: editing them keeps the cached reports.
_NOT_CHECK = frozenset({"inject.py", "synth.py"})


def _code_hash() -> str:
    """Hash of the ``ocr_fix`` sources and data that ``check`` may run (cached reports key)."""
    h = hashlib.sha256()
    for p in sorted((ROOT / "ocr_fix").rglob("*")):
        if p.name in _NOT_CHECK or "__pycache__" in p.parts or not p.is_file():
            continue
        if p.suffix in (".py", ".json", ".txt", ".npz", ".onnx"):
            h.update(str(p.relative_to(ROOT)).encode())
            h.update(p.read_bytes())
    return h.hexdigest()[:16]


def _file_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def run_check(
    s: InjectedSet,
    transcript: Path,
    extra_args: Sequence[str] = (),
    jobs: int = 1,
    code: str | None = None,
    work: Path = WORK,
) -> Path:
    """``ocr-fix check`` JSON of ``transcript`` against ``s``'s scans (cached report path)."""
    args = [a.replace("{group}", s.group) for a in extra_args]
    key = hashlib.sha256(
        json.dumps(
            [
                _file_hash(transcript),
                [str(p) for p in s.scans],
                s.lang,
                _file_hash(s.lexicon) if s.lexicon else None,
                args,
                code or _code_hash(),
            ]
        ).encode()
    ).hexdigest()[:24]
    out = work / "reports" / f"{key}.json"
    if out.is_file():
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "ocr_fix", "check", str(transcript), *map(str, s.scans)]
    cmd += ["--format", "json", "-o", str(out), "--fail-on", "never", "-q", "--lang", s.lang, "-j", str(jobs)]
    if s.lexicon:
        cmd += ["--lexicon", str(s.lexicon)]
    cmd += args
    done = subprocess.run(cmd, cwd=ROOT, env=_env(), capture_output=True, text=True, check=False)
    if done.returncode != 0 or not out.is_file():
        raise RuntimeError(
            f"check failed on {transcript} (exit {done.returncode}): {done.stderr.strip()[-500:]}"
        )
    return out


# --- scoring ---------------------------------------------------------------------------


def _score(
    errors: Path, report: Path, baseline: Path, transcript: Path, show: bool = False
) -> tuple[Counts, str]:
    cmd = [sys.executable, str(SCORER), str(errors), str(report), "--baseline", str(baseline)]
    cmd += ["--transcript", str(transcript)] + (["--show"] if show else [])
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    m = _LINE.search(done.stdout)
    if not m:
        raise RuntimeError(f"unexpected scorer output: {done.stdout!r} {done.stderr[-300:]!r}")
    found, n, _prec, false, counted, _pr, _pf, sugg = m.groups()
    c = Counts(errors=int(n), found=int(found), counted=int(counted), false=int(false))
    c.suggestion_right = round(float(sugg) * int(found))
    return c, done.stderr


def score_set(s: InjectedSet, report: Path, baseline_report: Path) -> SetScore:
    """Score one set's report with the official scorer (overall, per class, errors alone)."""
    catalogue = json.loads(s.errors.read_text(encoding="utf-8"))
    base = json.loads(baseline_report.read_text(encoding="utf-8"))
    baseline_flags = sum(1 for f in base.get("findings", []) if f.get("severity") in ("error", "warning"))
    with tempfile.TemporaryDirectory(prefix="verdicts-") as tmp:
        t = Path(tmp)
        total, shown = _score(s.errors, report, baseline_report, s.transcript, show=True)
        per_class: dict[str, Counts] = {}
        classes = sorted({e.get("class", e["kind"]) for e in catalogue})
        for klass in classes:
            part = t / f"{klass}.json"
            part.write_text(json.dumps([e for e in catalogue if e.get("class", e["kind"]) == klass]))
            per_class[klass], _ = _score(part, report, baseline_report, s.transcript)
        rep = json.loads(report.read_text(encoding="utf-8"))
        rep["findings"] = [f for f in rep.get("findings", []) if f.get("severity") == "error"]
        errors_only = t / "errors-only.json"
        errors_only.write_text(json.dumps(rep))
        only, _ = _score(s.errors, errors_only, baseline_report, s.transcript)
    total.error_counted, total.error_false = only.counted, only.false
    missed = []
    left = list(catalogue)
    for row in shown.splitlines():
        if row.startswith("MISSED "):
            # "MISSED <line> <wrong> -> <right>"; a wrong text with a line break spans rows.
            _, line, rest = (row + " ").split(" ", 2)
            at_line = [e for e in left if str(e["line"]) == line]
            hit = next((e for e in at_line if rest.startswith(e["wrong"].split("\n")[0])), None)
            hit = hit or (at_line[0] if at_line else None)
            if hit is not None:
                left.remove(hit)
            missed.append(hit or {"line": int(line), "raw": rest})
    false = [row[6:] for row in shown.splitlines() if row.startswith("FALSE ")]
    return SetScore(s.name, s.group, s.words, total, per_class, baseline_flags, missed, false)


def summarize(scores: Iterable[SetScore]) -> dict[str, Any]:
    """Overall, per-group and per-class figures from summed counts."""
    scores = list(scores)
    total = Counts()
    groups: dict[str, Counts] = {}
    classes: dict[str, Counts] = {}
    words = flags = 0
    group_words: dict[str, list[int]] = {}
    for sc in scores:
        total.add(sc.total)
        groups.setdefault(sc.group, Counts()).add(sc.total)
        gw = group_words.setdefault(sc.group, [0, 0])
        gw[0] += sc.words
        gw[1] += sc.baseline_flags
        words += sc.words
        flags += sc.baseline_flags
        for k, v in sc.per_class.items():
            classes.setdefault(k, Counts()).add(v)
    return {
        "overall": {
            **total.ratios(),
            "counts": vars(total),
            "flags_per_1000_words_unaltered": _per_k(flags, words),
        },
        "groups": {
            g: {
                **c.ratios(),
                "errors": c.errors,
                "flags_per_1000_words_unaltered": _per_k(*reversed(group_words[g])),
            }
            for g, c in sorted(groups.items())
        },
        "classes": {k: {**c.ratios(), "n": c.errors, "found": c.found} for k, c in sorted(classes.items())},
    }


def _per_k(flags: int, words: int) -> float:
    return round(1000 * flags / max(words, 1), 2)


def _fmt(x: float | None) -> str:
    return "  -  " if x is None else f"{x:.3f}"


def print_summary(scores: Sequence[SetScore], summary: dict[str, Any]) -> None:
    head = (
        f"{'set':34s} {'errors':>6s} {'recall':>6s} {'prec':>6s} {'sugg':>6s} {'err-ok':>6s} {'flags/1k':>8s}"
    )
    print(head)
    for sc in scores:
        r = sc.total.ratios()
        ratios = " ".join(_fmt(r[k]) for k in ("recall", "precision", "suggestion_right", "error_right"))
        label = f"{sc.group}/{sc.name}"
        print(f"{label:34.34s} {sc.total.errors:6d} {ratios} {_per_k(sc.baseline_flags, sc.words):8.2f}")
    print("\nper group:")
    for g, v in summary["groups"].items():
        print(
            f"  {g:24s} errors {v['errors']:4d} recall {_fmt(v['recall'])} precision {_fmt(v['precision'])} "
            f"suggestion {_fmt(v['suggestion_right'])} error-right {_fmt(v['error_right'])} "
            f"flags/1k unaltered {v['flags_per_1000_words_unaltered']:.2f}"
        )
    print("\nper class:")
    for k, v in summary["classes"].items():
        found = f"({v['found']}/{v['n']})"
        print(f"  {k:16s} recall {_fmt(v['recall'])} {found:9s} suggestion {_fmt(v['suggestion_right'])}")
    o = summary["overall"]
    c = o["counts"]
    print(
        f"\noverall: recall {_fmt(o['recall'])} ({c['found']}/{c['errors']})  "
        f"precision {_fmt(o['precision'])} "
        f"({c['false']} false of {c['counted']})  suggestion right {_fmt(o['suggestion_right'])}  "
        f"error right {_fmt(o['error_right'])} ({c['error_false']} false of {c['error_counted']})  "
        f"flags per 1,000 words on the unaltered transcripts {o['flags_per_1000_words_unaltered']:.2f}"
    )


def evaluate(
    sets: Sequence[InjectedSet],
    extra_args: Sequence[str] = (),
    tag: str = "current",
    workers: int = 2,
    reports: Callable[[InjectedSet], tuple[Path, Path]] | None = None,
    work: Path = WORK,
) -> tuple[list[SetScore], dict[str, Any]]:
    """Check (or take ``reports(set) -> (report, baseline_report)``) and score every set;
    writes ``work/<tag>/<set>.json`` and ``summary.json``."""
    code = _code_hash()

    def one(s: InjectedSet) -> SetScore:
        if reports is not None:
            rep, base = reports(s)
        else:
            rep = run_check(s, s.transcript, extra_args, code=code, work=work)
            base = run_check(s, s.baseline_transcript, extra_args, code=code, work=work)
        return score_set(s, rep, base)

    # Big documents first, so the pool does not end on one long check.
    order = sorted(range(len(sets)), key=lambda i: -sets[i].words)
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        done = dict(zip(order, pool.map(one, [sets[i] for i in order]), strict=True))
    scores = [done[i] for i in range(len(sets))]
    summary = summarize(scores)
    out = work / tag
    out.mkdir(parents=True, exist_ok=True)
    for sc in scores:
        (out / f"{re.sub(r'[^A-Za-z0-9_.-]+', '-', sc.name)}.json").write_text(
            json.dumps(sc.to_json(), indent=1)
        )
    (out / "summary.json").write_text(json.dumps(summary, indent=1))
    return scores, summary


def run(argv: Sequence[str] = ()) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description="check verdicts on injected-error sets")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--groups", help="comma-separated groups (default: all)")
    ap.add_argument("--check-arg", action="append", default=[], help="extra argument for every check")
    ap.add_argument("--tag", default="current", help="results go to .bench/verdicts/TAG/")
    ap.add_argument("--workers", type=int, default=2, help="checks run at the same time")
    a = ap.parse_args(list(argv))
    if not SCORER.is_file():
        print(f"[verdicts] skipped: {SCORER} absent")
        return {"skipped": f"{SCORER} absent"}
    t0 = time.perf_counter()
    sets = build_sets(ROOT, a.seed, groups=a.groups.split(",") if a.groups else None)
    scores, summary = evaluate(sets, a.check_arg, a.tag, a.workers)
    print_summary(scores, summary)
    print(f"\n{len(sets)} sets in {time.perf_counter() - t0:.0f} s; per set: {WORK / a.tag}")
    return summary


if __name__ == "__main__":
    run(sys.argv[1:])
