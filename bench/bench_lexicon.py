"""Benchmark of the lexicon bootstrap workflow an archivist follows on a new collection:
``ocr-fix lexicon suggest TRANSCRIPT --scans ...`` then ``check --lexicon`` with it.

It measures the workflow, not the list: on each set (the bundled document with its real
errors; injected sets built by ``bench/sets.py`` from ``../shared/realdata`` and the
bundled pages) ``check`` runs with no lexicon, with the suggested lexicon and with a hand
lexicon (``lexicons/psis-400-23.txt``; ``bench/lexicons/hand-<document>.txt``, name lists
a person wrote from reading the ground truth), and is scored by ``../shared/tools/score_findings.py``
with ``--baseline`` (findings also raised on the unaltered transcript left out). Also
reported: how many of the injected name misspellings the suggestion proposes as terms
(target 0), the share of the hand lexicon's names it proposes (as a term, or inside a
proposed multi-word name), and the share of its proposals that are single words the
English dictionary lists and the hand lexicon does not (a strict proxy for "plain
dictionary words": the dictionary also lists ``China`` and ``Japan``).

Run: ``python bench/run.py lexicon`` (OCR is cached, so a rerun is quick).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from ocr_fix.lexicon import Dictionary, bare, parse_lexicon  # noqa: E402

SCORER = ROOT.parent / "shared" / "tools" / "score_findings.py"
HAND = ROOT / "bench" / "lexicons"
WORK = ROOT / ".bench" / "lexicon"
#: Groups whose documents have a hand lexicon (English: the dictionary evidence is on).
GROUPS = ("ehri-despatch", "ehri-testimony", "ehri-letters", "psis")
_SCORE = re.compile(r"recall (\d+)/(\d+)=\S+ precision (\S+) \((\d+) false of (\d+)\)")


def _cli(*args: str) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    subprocess.run([sys.executable, "-m", "ocr_fix", *args], check=True, env=env, cwd=ROOT)


def _layout(name: str, transcript: Path, scans: tuple[Path, ...]) -> tuple[Path, Path]:
    """A folder holding the transcript and links to the set's scans (one document)."""
    d = WORK / name
    scan_dir = d / "scans"
    scan_dir.mkdir(parents=True, exist_ok=True)
    for s in scans:
        link = scan_dir / s.name
        if not link.exists():
            link.symlink_to(s.resolve())
    return d, scan_dir


def _check(transcript: Path, scans: Path, lexicon: Path | None, lang: str, out: Path) -> Path:
    if not out.exists():
        args = ["check", str(transcript), str(scans), "--format", "json", "-o", str(out)]
        args += ["--fail-on", "never", "--quiet", "--lang", lang]
        if lexicon is not None:
            args += ["--lexicon", str(lexicon)]
        _cli(*args)
    return out


def _score(errors: Path, report: Path, baseline: Path | None, transcript: Path) -> dict[str, Any]:
    cmd = [sys.executable, str(SCORER), str(errors), str(report), "--transcript", str(transcript)]
    if baseline is not None:
        cmd += ["--baseline", str(baseline)]
    text = subprocess.run(cmd, capture_output=True, text=True, check=False).stdout
    m = _SCORE.search(text)
    if m is None:
        raise RuntimeError(f"scorer output not understood: {text!r}")
    found, total, precision, false, flagged = m.groups()
    return {
        "found": int(found),
        "errors": int(total),
        "precision": float(precision),
        "false": int(false),
        "flagged": int(flagged),
    }


def _terms(path: Path) -> list[str]:
    terms, _, _ = parse_lexicon(path.read_text(encoding="utf-8"))
    return [t.text for t in terms]


def _list_quality(suggested: Path, hand: Path, errors: Path) -> dict[str, Any]:
    sug = _terms(suggested)
    hand_terms = _terms(hand)
    proposed = {t.casefold() for t in sug}
    # A hand name counts as proposed as a term or inside a proposed multi-word name
    # (``Hermann`` in ``Hermann Fraenkel``).
    covered = proposed | {bare(w).casefold() for t in sug if " " in t for w in t.split()}
    dictionary = Dictionary.english()
    hand_keys = {t.casefold() for t in hand_terms}
    plain = [t for t in sug if " " not in t and t.casefold() not in hand_keys and t in dictionary]
    misspelt = [
        bare(e["wrong"])
        for e in json.loads(errors.read_text(encoding="utf-8"))
        if e["kind"] == "name" and bare(e["wrong"])
    ]
    adopted = sorted({m for m in misspelt if m.casefold() in proposed})
    return {
        "proposed": len(sug),
        "hand_found": sum(1 for t in hand_terms if t.casefold() in covered),
        "hand": len(hand_terms),
        "plain_dictionary": len(plain),
        "misspellings": len(misspelt),
        "misspellings_adopted": adopted,
    }


def _sets() -> list[Any]:
    try:
        from sets import build_sets
    except ImportError as exc:  # bench/sets.py is the injected-set builder
        raise SystemExit(f"bench/sets.py is needed: {exc}") from exc
    return [s for s in build_sets(ROOT, seed=1, groups=set(GROUPS)) if s.lang == "eng"]


def _hand_lexicon(s: Any) -> Path | None:
    if s.lexicon is not None:
        return Path(s.lexicon)
    path = HAND / f"hand-{s.name.lower()}.txt"
    return path if path.is_file() else None


def run() -> dict[str, Any]:
    results: dict[str, Any] = {}
    totals = {k: {"found": 0, "errors": 0, "false": 0, "flagged": 0} for k in ("none", "suggested", "hand")}
    quality = {"hand_found": 0, "hand": 0, "proposed": 0, "plain_dictionary": 0, "misspellings": 0}
    adopted: list[str] = []
    for s in _sets():
        hand = _hand_lexicon(s)
        if hand is None:
            continue
        tag = f"{s.name}-{'injected' if s.injected else 'real'}"
        d, scans = _layout(tag, Path(s.transcript), tuple(Path(p) for p in s.scans))
        suggested = d / "suggested.txt"
        if not suggested.exists():
            _cli("lexicon", "suggest", str(s.transcript), "--scans", str(scans), "-q", "-o", str(suggested))
        row: dict[str, Any] = {}
        for label, lex in (("none", None), ("suggested", suggested), ("hand", hand)):
            report = _check(Path(s.transcript), scans, lex, s.lang, d / f"{label}.json")
            base = None
            if s.injected:
                base = _check(Path(s.baseline_transcript), scans, lex, s.lang, d / f"{label}-baseline.json")
            score = _score(Path(s.errors), report, base, Path(s.transcript))
            row[label] = score
            for k in totals[label]:
                totals[label][k] += score[k]
        row["list"] = _list_quality(suggested, hand, Path(s.errors))
        for k in quality:
            quality[k] += row["list"][k]
        adopted += row["list"]["misspellings_adopted"]
        results[tag] = row
        print(
            f"{tag:34s} recall none {row['none']['found']:3d}  suggested {row['suggested']['found']:3d}"
            f"  hand {row['hand']['found']:3d}  of {row['hand']['errors']:3d};  precision "
            f"{row['none']['precision']:.2f} / {row['suggested']['precision']:.2f}"
            f" / {row['hand']['precision']:.2f};"
            f"  hand names proposed {row['list']['hand_found']}/{row['list']['hand']};"
            f"  misspellings adopted {len(row['list']['misspellings_adopted'])}/{row['list']['misspellings']}"
        )
    summary: dict[str, Any] = {}
    for label, t in totals.items():
        recall = t["found"] / t["errors"] if t["errors"] else 0.0
        precision = 1 - t["false"] / t["flagged"] if t["flagged"] else 1.0
        summary[label] = {"recall": round(recall, 3), "precision": round(precision, 3), **t}
    summary["list"] = {
        **quality,
        "hand_share": round(quality["hand_found"] / max(quality["hand"], 1), 3),
        "plain_share": round(quality["plain_dictionary"] / max(quality["proposed"], 1), 3),
        "misspellings_adopted": adopted,
    }
    print("\n== lexicon workflow (all sets; error+warning findings, baseline-subtracted) ==")
    for label in ("none", "suggested", "hand"):
        v = summary[label]
        print(
            f"  {label:9s} recall {v['recall']:.3f}  precision {v['precision']:.3f}"
            f"  ({v['found']}/{v['errors']})"
        )
    q = summary["list"]
    print(
        f"  suggested lists: {q['hand_found']}/{q['hand']} hand names proposed ({q['hand_share']}),"
        f" {q['plain_dictionary']}/{q['proposed']} plain dictionary words ({q['plain_share']}),"
        f" injected misspellings adopted as terms: {len(adopted)}/{q['misspellings']} {adopted}"
    )
    results["summary"] = summary
    return results


if __name__ == "__main__":
    run()
