"""Quality guards: ``check`` must keep finding injected transcriber errors.

An injected set is built here from the bundled golden pages and their committed scans
(no realdata needed): :func:`ocr_fix.inject.inject` alters the correct text, ``check``
runs with real Tesseract (cached OCR) on the altered and on the unaltered transcript, and
an error counts as found when an error/warning finding sits on its line overlapping its
span (an omission within 3 characters) -- the definition of
``../shared/tools/score_findings.py``, against which :func:`_score` is checked when it is
there. Precision leaves out findings also raised on the unaltered transcript.

The floors are what the code achieved when they were set (with the fitted evidence
model), minus a margin. A class the code misses entirely today has no
floor of its own: the metamorphic test below marks it ``xfail(strict=True)``, so it
flips to a failure -- to be unmarked -- the day the class is found.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from functools import lru_cache
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from ocr_fix.cli import app
from ocr_fix.inject import CLASSES, inject, vocabulary
from tests.conftest import REALDATA, ROOT

GOLDEN = ROOT / "golden" / "psis-400-23"
SCANS = ROOT / "scans" / "psis-400-23"
LEXICON = ROOT / "lexicons" / "psis-400-23.txt"
SCORER = ROOT.parent / "shared" / "tools" / "score_findings.py"
PAGES = (3, 4, 5, 6, 7, 8)  # six pages, ~1,800 words
SEED = 20261201

pytestmark = [
    pytest.mark.tesseract,
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("tesseract") is None, reason="tesseract not installed"),
]

runner = CliRunner()


def _text(pages: tuple[int, ...]) -> tuple[str, list[int]]:
    lines: list[str] = []
    page_of: list[int] = []
    for number, n in enumerate(pages, start=1):
        page = (GOLDEN / f"{n:02d}.gt.txt").read_text(encoding="utf-8").rstrip("\n").split("\n")
        lines += [line.rstrip() for line in page]
        page_of += [number] * len(page)
    return "\n".join(lines) + "\n", page_of


def _check(transcript: Path, scans: list[Path], *extra: str) -> dict[str, Any]:
    out = transcript.with_suffix(".json")
    r = runner.invoke(
        app,
        [
            "check",
            str(transcript),
            *map(str, scans),
            "-f",
            "json",
            "-o",
            str(out),
            "--fail-on",
            "never",
            "-q",
            *extra,
        ],
    )
    assert r.exit_code == 0, r.output
    return json.loads(out.read_text(encoding="utf-8"))


def _strip(s: str | None) -> str:
    return re.sub(r"^[\W_]+|[\W_]+$", "", s or "")


def _flags(report: dict[str, Any]) -> list[dict[str, Any]]:
    return [f for f in report["findings"] if f["severity"] in ("error", "warning") and f.get("transcript")]


def _hits(e: dict[str, Any], findings: list[dict[str, Any]], starts: list[int]) -> list[dict[str, Any]]:
    """Findings on the error's span (by file offsets; an omission within 3 characters)."""
    pad = 3 if e["kind"] == "omission" else 0
    a = starts[e["line"] - 1] + e["column"] - 1
    b = a + max(len(e["wrong"]), 1)
    out = []
    for f in findings:
        t = f["transcript"]
        end = max(t["end_offset"], t["offset"] + 1)
        if t["offset"] < b + pad and end > a - pad:
            out.append(f)
    return out


def _new(report: dict[str, Any], baseline: dict[str, Any]) -> list[dict[str, Any]]:
    """Error/warning findings not also raised on the unaltered transcript (same line, text)."""
    seen = {(f["transcript"]["line"], _strip(f["transcript"]["text"])) for f in _flags(baseline)}
    return [
        f for f in _flags(report) if (f["transcript"]["line"], _strip(f["transcript"]["text"])) not in seen
    ]


def _score(text: str, catalogue: list[dict[str, Any]], report: dict, baseline: dict) -> dict[str, Any]:
    starts = [0]
    for line in text.split("\n"):
        starts.append(starts[-1] + len(line) + 1)
    flagged = _flags(report)
    per_class: dict[str, list[int]] = {}
    used: set[int] = set()
    for e in catalogue:
        hits = _hits(e, flagged, starts)
        used.update(id(f) for f in hits)
        c = per_class.setdefault(e["class"], [0, 0])
        c[0] += bool(hits)
        c[1] += 1
    counted = [f for f in flagged if id(f) in used or f in _new(report, baseline)]
    true = [f for f in counted if id(f) in used]
    found = sum(c[0] for c in per_class.values())
    return {
        "recall": found / len(catalogue),
        "found": found,
        "precision": len(true) / len(counted) if counted else 1.0,
        "per_class": {k: c[0] / c[1] for k, c in per_class.items()},
    }


@lru_cache(maxsize=1)
def _golden_set(tmp: str) -> tuple[str, list[dict[str, Any]], dict, dict, Path, Path]:
    """Six golden pages with three errors of each class (two swapped-line pairs)."""
    work = Path(tmp)
    text, page_of = _text(PAGES)
    per_class = dict.fromkeys(CLASSES, 3) | {"line-order": 2}
    result = inject(text, SEED, per_class=per_class, vocab=vocabulary("eng"), pages=page_of)
    altered, original = work / "altered.txt", work / "original.txt"
    altered.write_text(result.text, encoding="utf-8")
    original.write_text(text, encoding="utf-8")
    scans = [SCANS / f"{n:02d}.png" for n in PAGES]
    report = _check(altered, scans, "-l", str(LEXICON))
    baseline = _check(original, scans, "-l", str(LEXICON))
    return result.text, result.catalogue(), report, baseline, altered, original


@pytest.fixture(scope="module")
def golden_set(tmp_path_factory: pytest.TempPathFactory):
    return _golden_set(str(tmp_path_factory.mktemp("quality")))


#: Recall floors per class on the golden set (what the code found when set, minus a
#: margin; a class found in none of its three errors today has floor 0 and its own
#: xfail in the metamorphic test).
CLASS_FLOORS = {  # found / 3 when set (evidence model of make calibrate, seeds 1 and 2)
    "name": 0.66,  # 3
    "real-word": 0.66,  # 3
    "number": 0.66,  # 3
    "doubled-word": 0.66,  # 3
    "dropped-word": 0.66,  # 3
    "digit-letter": 0.66,  # 3
    "line-order": 0.5,  # 2 of 2 swapped pairs
    "dropped-clause": 0.33,  # 2
    "punctuation": 0.0,  # 0
}


def test_recall_and_precision_floors_on_injected_golden_pages(golden_set):
    text, catalogue, report, baseline, _, _ = golden_set
    assert len(catalogue) == 3 * (len(CLASSES) - 1) + 2
    s = _score(text, catalogue, report, baseline)
    assert s["recall"] >= 0.70, s  # 0.85 (22/26) when set
    assert s["precision"] >= 0.75, s  # 0.88 when set
    for klass, floor in CLASS_FLOORS.items():
        assert s["per_class"][klass] >= floor, (klass, s)
    # The unaltered pages are nearly clean: at most one flag per 1,000 words.
    assert len(_flags(baseline)) <= len(text.split()) / 1000 + 1


def test_the_test_scorer_agrees_with_the_official_one(golden_set):
    if not SCORER.is_file():
        pytest.skip(f"{SCORER} absent")
    text, catalogue, report, baseline, altered, _original = golden_set
    errors, rep, base = (altered.with_name(n) for n in ("errors.json", "report.json", "baseline.json"))
    errors.write_text(json.dumps(catalogue))
    rep.write_text(json.dumps(report))
    base.write_text(json.dumps(baseline))
    done = subprocess.run(
        [
            sys.executable,
            str(SCORER),
            str(errors),
            str(rep),
            "--baseline",
            str(base),
            "--transcript",
            str(altered),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    m = re.search(r"recall (\d+)/(\d+)=\S+ precision (\S+)", done.stdout)
    assert m, done.stdout + done.stderr
    ours = _score(text, catalogue, report, baseline)
    assert int(m.group(1)) == ours["found"] and int(m.group(2)) == len(catalogue)
    assert abs(float(m.group(3)) - ours["precision"]) < 0.006


# --- metamorphic: one error of each class, exactly one finding on it --------------------

#: Classes for which the property does not hold on the current code, and why (seen in
#: the findings). Digit-letter, dropped clause, line order and punctuation passed once the
#: evidence model landed.
#: Classes the metamorphic test below cannot find today (none since the context crop).
FAILING_TODAY: dict[str, str] = {}

META_PAGES = (9, 10)


@lru_cache(maxsize=1)
def _meta_baseline(tmp: str) -> tuple[str, list[int], dict]:
    text, page_of = _text(META_PAGES)
    original = Path(tmp) / "original.txt"
    original.write_text(text, encoding="utf-8")
    return text, page_of, _check(original, [SCANS / f"{n:02d}.png" for n in META_PAGES], "-l", str(LEXICON))


@pytest.mark.parametrize(
    "klass",
    [
        pytest.param(k, marks=pytest.mark.xfail(strict=True, reason=FAILING_TODAY[k]))
        if k in FAILING_TODAY
        else k
        for k in CLASSES
    ],
)
def test_one_injected_error_gives_exactly_one_finding_on_its_span(klass, tmp_path_factory):
    text, page_of, baseline = _meta_baseline(str(tmp_path_factory.mktemp("meta")))
    vocab = vocabulary("eng")
    if klass == "real-word" and not vocab:
        pytest.skip("wordfreq not installed")
    result = inject(text, SEED, per_class={klass: 1}, vocab=vocab, pages=page_of)
    assert len(result.errors) == 1
    altered = tmp_path_factory.mktemp(klass) / "altered.txt"
    altered.write_text(result.text, encoding="utf-8")
    report = _check(altered, [SCANS / f"{n:02d}.png" for n in META_PAGES], "-l", str(LEXICON))
    e = result.catalogue()[0]
    starts = [0]
    for line in result.text.split("\n"):
        starts.append(starts[-1] + len(line) + 1)
    new = _new(report, baseline)
    on_span = _hits(e, new, starts)
    assert len(on_span) == 1 and len(new) == 1, (
        e,
        [(f["transcript"], f["severity"], f["kind"]) for f in new],
    )


# --- the same on a real scan, when ../shared/realdata is there ---------------------------


@pytest.mark.skipif(not REALDATA.is_dir(), reason="../shared/realdata absent")
def test_recall_floor_on_a_real_despatch_with_injected_errors(tmp_path):
    pages = sorted((REALDATA / "ehri_english_more").glob("EHRI-DR-19390519-US_0[134].jpg"))
    pages += [REALDATA / "ehri_english_typewritten" / "EHRI-DR-19390519-US_02.jpg"]
    pages.sort(key=lambda p: p.stem)
    if len(pages) != 4 or not all(p.is_file() for p in pages):
        pytest.skip("the EHRI-DR-19390519-US pages are not all there")
    lines: list[str] = []
    page_of: list[int] = []
    for number, scan in enumerate(pages, start=1):
        gt = [
            x.rstrip()
            for x in scan.with_suffix(".gt.txt").read_text(encoding="utf-8").rstrip("\n").split("\n")
        ]
        lines += gt
        page_of += [number] * len(gt)
    text = "\n".join(lines) + "\n"
    per_class = dict.fromkeys(CLASSES, 2) | {"line-order": 1}
    result = inject(text, SEED, per_class=per_class, vocab=vocabulary("eng"), pages=page_of)
    altered, original = tmp_path / "altered.txt", tmp_path / "original.txt"
    altered.write_text(result.text, encoding="utf-8")
    original.write_text(text, encoding="utf-8")
    report, baseline = _check(altered, pages), _check(original, pages)
    s = _score(result.text, result.catalogue(), report, baseline)
    assert s["recall"] >= 0.40, s  # 0.53 (9/17) when set
    assert s["precision"] >= 0.85, s  # 1.00 when set
    for klass in ("real-word", "dropped-word", "number"):  # 2 of 2 each when set
        assert s["per_class"][klass] >= 0.5, (klass, s)
