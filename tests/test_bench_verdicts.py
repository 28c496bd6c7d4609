"""The verdicts harness reads the official scorer right: counts, classes, misses, errors alone."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from ocr_fix.inject import inject

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

import bench_verdicts as bv  # noqa: E402
from sets import InjectedSet, _share  # noqa: E402

pytestmark = pytest.mark.skipif(not bv.SCORER.is_file(), reason=f"{bv.SCORER} absent")

TEXT = """The Minister sent a letter from London on 4 May 1939 to the Department.
In his reply the Secretary said that the matter would be considered at once,
and the committee of the Legation met on 12 June to discuss it with the Colonel.
It was agreed that the despatch would go to the Department in the next pouch.
"""


def _finding(text: str, offset: int, end: int, severity: str, suggestion: str) -> dict:
    line = text.count("\n", 0, offset) + 1
    start = text.rfind("\n", 0, offset) + 1
    return {
        "severity": severity,
        "kind": "substitution",
        "transcript": {
            "line": line,
            "column": offset - start + 1,
            "end_column": end - start + 1,
            "text": text[offset:end],
            "offset": offset,
            "end_offset": end,
        },
        "scan": {"page": 1, "text": suggestion},
        "suggestion": suggestion,
    }


def _at(text: str, e: dict) -> int:
    return sum(len(x) + 1 for x in text.split("\n")[: e["line"] - 1]) + e["column"] - 1


def test_score_set_counts_found_false_classes_and_errors_alone(tmp_path):
    result = inject(TEXT, 4, per_class={"number": 1, "doubled-word": 1, "line-order": 1})
    cat = result.catalogue()
    assert sorted(e["class"] for e in cat) == ["doubled-word", "line-order", "number"]
    altered, base_t = tmp_path / "t.txt", tmp_path / "b.txt"
    altered.write_text(result.text)
    base_t.write_text(TEXT)
    errors = tmp_path / "errors.json"
    errors.write_text(json.dumps(cat))
    s = InjectedSet("doc", "g", altered, (tmp_path / "p.png",), errors, base_t, words=len(TEXT.split()))
    number = next(e for e in cat if e["class"] == "number")
    doubled = next(e for e in cat if e["class"] == "doubled-word")
    a = _at(result.text, number)
    d = _at(result.text, doubled)
    f, f0 = result.text.index("agreed"), TEXT.index("agreed")  # on line 4, which no error touches
    findings = [
        _finding(result.text, a, a + len(number["wrong"]), "error", number["right"]),  # right
        _finding(result.text, d, d + len(doubled["right"]), "warning", "zzz"),  # found, bad suggestion
        _finding(result.text, f, f + 6, "error", "argued"),  # a false alarm, an `error`
    ]
    report, baseline = tmp_path / "r.json", tmp_path / "r0.json"
    report.write_text(json.dumps({"transcript": str(altered), "findings": findings}))
    baseline.write_text(
        json.dumps({"transcript": str(base_t), "findings": [_finding(TEXT, f0, f0 + 6, "info", "x")]})
    )
    sc = bv.score_set(s, report, baseline)
    t = sc.total
    assert (t.errors, t.found, t.counted, t.false, t.suggestion_right) == (3, 2, 3, 1, 1)
    assert (t.error_counted, t.error_false) == (2, 1)
    assert {k: (v.found, v.errors) for k, v in sc.per_class.items()} == {
        "number": (1, 1),
        "doubled-word": (1, 1),
        "line-order": (0, 1),
    }
    # The swapped lines span a line break in the scorer's MISSED output: still named.
    assert [m.get("class") for m in sc.missed] == ["line-order"]
    assert len(sc.false) == 1 and sc.baseline_flags == 0
    # A false alarm also raised on the unaltered transcript is left out of precision.
    baseline.write_text(
        json.dumps({"transcript": str(base_t), "findings": [_finding(TEXT, f0, f0 + 6, "error", "x")]})
    )
    again = bv.score_set(s, report, baseline)
    assert (again.total.counted, again.total.false, again.baseline_flags) == (2, 0, 1)
    summary = bv.summarize([sc, again])
    assert summary["overall"]["counts"]["errors"] == 6 and summary["classes"]["number"]["recall"] == 1.0
    assert summary["overall"]["precision"] == round((3 - 1 + 2) / 5, 4)


def test_share_spreads_errors_over_classes():
    small, big = _share(60, 1, 50), _share(5000, 1, 50)
    assert sum(small.values()) == 3 and max(small.values()) == 1
    assert sum(big.values()) == 100 - (11 - 2) and big["line-order"] == 2  # 11 a class, two swaps
    assert min(v for k, v in big.items() if k != "line-order") >= 11
