"""Benchmark of ``ocr-fix check``: recall, precision and suggestion accuracy on the
bundled PSIS 400-23 document against its catalogue of 33 real transcription errors,
lexicon-only mode on names, and findings per 1,000 words on real EHRI scans whose
human transcripts are mostly right (so every finding there is a candidate false alarm).

Run: ``make bench`` or ``.venv/bin/python bench/bench_check.py``.
"""

from __future__ import annotations

import json
import re
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ocr_fix.normalize.markdown import strip_markdown  # noqa: E402
from ocr_fix.pipeline import OcrRun, check  # noqa: E402
from ocr_fix.report.check_json import result_dict  # noqa: E402

DOC = "psis-400-23"
REALDATA = ROOT.parent / "shared" / "realdata"
#: Real scan sets with human transcripts: (folder, image suffix, transcript suffix).
REAL_SETS = [
    ("ehri_english_typewritten", ".jpg", ".gt.txt"),
    ("tapuscorpus_french_typewritten", ".jpg", ".gt.txt"),
    ("tesseract_test", ".tif", ".txt"),
]


def _norm(line: str) -> str:
    return re.sub(r"\s+", " ", strip_markdown(line).text).strip()


def _overlaps(f: dict[str, Any], e: dict[str, Any]) -> bool:
    t = f["transcript"]
    if t is None or t["line"] != e["line"]:
        return False
    lo, hi = t["column"], max(t["end_column"], t["column"] + 1)
    return lo < e["column"] + len(e["wrong"]) and e["column"] < hi


def _apply(line: str, findings: list[dict[str, Any]]) -> str:
    for f in sorted(findings, key=lambda f: -f["transcript"]["column"]):
        t = f["transcript"]
        line = line[: t["column"] - 1] + f["suggestion"] + line[t["end_column"] - 1 :]
    return line


def score(
    findings: list[dict[str, Any]],
    all_errors: list[dict[str, Any]],
    lines: list[str],
    need_page: bool = True,
    kinds: set[str] | None = None,
) -> dict[str, Any]:
    """Catalogued error found = an error/warning finding on its line, overlapping its
    span, naming its scan page (when scans were given). Recall counts the errors of
    ``kinds``; precision counts findings that sit on any catalogued error."""
    flagged = [f for f in findings if f["severity"] in ("error", "warning") and f["transcript"]]
    errors = [e for e in all_errors if kinds is None or e["kind"] in kinds]
    found, right = 0, 0
    per_kind: dict[str, Counter[str]] = {}
    matched_ids: set[int] = set()
    missed: list[str] = []
    wrong: list[str] = []
    for e in errors:
        hits = [
            f
            for f in flagged
            if _overlaps(f, e) and (not need_page or (f["scan"] and f["scan"]["page"] == e["page"]))
        ]
        c = per_kind.setdefault(e["kind"], Counter())
        c["total"] += 1
        matched_ids.update(id(f) for f in hits)
        if not hits:
            missed.append(f"{e['line']}:{e['column']} {e['wrong']!r}->{e['right']!r}")
            continue
        found += 1
        c["found"] += 1
        line = lines[e["line"] - 1]
        col = e["column"] - 1
        expected = line[:col] + e["right"] + line[col + len(e["wrong"]) :]
        if _norm(_apply(line, hits)) == _norm(expected):
            right += 1
            c["right"] += 1
        else:
            wrong.append(
                f"{e['line']}:{e['column']} {e['wrong']!r}->{e['right']!r}, suggested "
                + ", ".join(repr(f["suggestion"]) for f in hits)
            )
    true_pos = sum(1 for f in flagged if any(_overlaps(f, e) for e in all_errors))
    false_pos = [f for f in flagged if not any(_overlaps(f, e) for e in all_errors)]
    return {
        "errors": len(errors),
        "found": found,
        "flagged": len(flagged),
        "recall": found / len(errors) if errors else 1.0,
        "precision": true_pos / len(flagged) if flagged else 1.0,
        "suggestion_right": right / found if found else 0.0,
        "per_kind": {
            k: {"recall": v["found"] / v["total"], "right": v["right"] / max(v["found"], 1), "n": v["total"]}
            for k, v in sorted(per_kind.items())
        },
        "missed": missed,
        "wrong_suggestions": wrong,
        "false_positives": [
            f"{f['transcript']['line']}:{f['transcript']['column']} "
            f"{f['transcript']['text']!r}->{f['suggestion']!r} ({f['severity']}; {f['message'][:80]})"
            for f in false_pos
        ],
    }


def bench_psis(jobs: int | None = None) -> dict[str, Any]:
    scans = ROOT / "scans" / DOC
    transcript = scans / "transcript.md"
    lexicon = ROOT / "lexicons" / f"{DOC}.txt"
    errors = json.loads((ROOT / "golden" / DOC / "errors.json").read_text())
    lines = transcript.read_text(encoding="utf-8").split("\n")
    t0 = time.perf_counter()
    result = result_dict(check(transcript, [scans], [lexicon], OcrRun(jobs=jobs)))
    t_scans = time.perf_counter() - t0
    with_scans = score(result["findings"], errors, lines)
    t0 = time.perf_counter()
    lexonly = result_dict(check(transcript, [], [lexicon]))
    t_lex = time.perf_counter() - t0
    names = score(lexonly["findings"], errors, lines, need_page=False, kinds={"name"})
    return {
        "scans": with_scans,
        "lexicon_only_names": names,
        "seconds_scans": t_scans,
        "seconds_lexicon_only": t_lex,
        "summary": result["summary"],
    }


def bench_real(jobs: int | None = None) -> dict[str, Any]:
    """Findings per 1,000 words on real scans whose human transcripts are mostly right."""
    if not REALDATA.is_dir():
        return {"skipped": f"{REALDATA} absent"}
    out: dict[str, Any] = {}
    for folder, image_suffix, gt_suffix in REAL_SETS:
        rows = []
        for img in sorted((REALDATA / folder).glob(f"*{image_suffix}")):
            gt = img.parent / (img.stem + gt_suffix)
            if not gt.exists():
                continue
            r = result_dict(check(gt, [img], run=OcrRun(jobs=jobs)))
            words = len(gt.read_text(encoding="utf-8").split())
            flagged = [f for f in r["findings"] if f["severity"] in ("error", "warning")]
            rows.append(
                {
                    "page": img.stem,
                    "words": words,
                    "error": r["summary"]["error"],
                    "warning": r["summary"]["warning"],
                    "info": r["summary"]["info"],
                    "per_1000": 1000 * len(flagged) / max(words, 1),
                    "agreement": r["agreement"],
                    "examples": [
                        f"{f['severity']} {f['kind']} {f['transcript']['text'] if f['transcript'] else ''!r}"
                        f"->{f['suggestion']!r} scan={f['scan']['text'] if f['scan'] else ''!r}"
                        for f in flagged[:4]
                    ],
                }
            )
        total_words = sum(r["words"] for r in rows)
        total_flagged = sum(r["error"] + r["warning"] for r in rows)
        out[folder] = {
            "pages": rows,
            "per_1000": 1000 * total_flagged / max(total_words, 1),
            "words": total_words,
        }
    return out


def run() -> dict[str, Any]:
    psis = bench_psis()
    s, n = psis["scans"], psis["lexicon_only_names"]
    print("\n== check on psis-400-23 (33 catalogued errors; error+warning findings) ==")
    print(
        f"recall {s['recall']:.3f}  precision {s['precision']:.3f}  "
        f"suggestion right {s['suggestion_right']:.3f}"
        f"  ({s['found']}/{s['errors']} found, {s['flagged']} flagged, {psis['seconds_scans']:.1f}s)"
    )
    for k, v in s["per_kind"].items():
        print(f"  {k:12s} recall {v['recall']:.2f}  right {v['right']:.2f}  (n={v['n']})")
    for m in s["missed"]:
        print("  missed:", m)
    for m in s["wrong_suggestions"]:
        print("  wrong suggestion:", m)
    for fp in s["false_positives"]:
        print("  false positive:", fp)
    print(
        f"lexicon-only, name errors: recall {n['recall']:.3f}  precision {n['precision']:.3f}"
        f"  ({n['found']}/{n['errors']}, {n['flagged']} flagged)"
    )
    for fp in n["false_positives"]:
        print("  lexicon-only false positive:", fp)
    real = bench_real()
    for folder, res in real.items():
        if not isinstance(res, dict) or "pages" not in res:
            continue
        print(
            f"\n== {folder}: {res['per_1000']:.1f} error+warning findings per 1,000 words "
            f"({res['words']} words) =="
        )
        for r in res["pages"]:
            print(
                f"  {r['page']:28s} words {r['words']:4d}  "
                f"E {r['error']:2d} W {r['warning']:2d} I {r['info']:3d}"
                f"  per1000 {r['per_1000']:5.1f}  agreement {r['agreement']}"
            )
            for ex in r["examples"]:
                print("     ", ex)
    return {"psis": psis, "real": real}


if __name__ == "__main__":
    run()
