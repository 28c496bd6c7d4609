"""Fit the evidence model on injected errors; report leave-one-set-out figures.

``make calibrate`` (or ``python bench/calibrate.py [--seeds 1,2,3,4,5,6] [--refit]``):

1. builds the injected sets (:mod:`bench.sets`: real pages of ``../shared/realdata``,
   the bundled pages, synth pages in several typefaces; errors of every class injected
   into their correct transcripts, with a catalogue);
2. runs the real check on each (Tesseract page OCR, the CTC verifier, a second
   Tesseract reading of *every* disputed line — at run time only the uncertain ones are
   read again — all cached) and keeps every candidate disagreement with its features
   (``.bench/calibrate/seed-N/<set>.json``; ``--refit`` fits again from those files);
3. labels each candidate: it overlaps an injected (or, for the bundled transcript, a
   catalogued real) error -> the transcript is wrong (1); it lies on a line no error
   touched -> the transcript is right (0); anything else (a neighbour of an error on the
   same line, the lines of a swapped pair, which the ``line-order`` check reports) is
   left out. The human transcripts of the real pages carry real slips nobody
   catalogued; on unaltered lines they are labelled 0. They are few (about one in a
   thousand words) and only make the model more cautious; the realdata review of
   ``bench/bench_check.py`` lists each one the model flags;
4. fits one logistic regression per kind and stage (``first``: without the second
   reading; ``full``: with it) and picks the thresholds on the pooled held-out scores
   of a leave-one-group-out run (fit without a group, score it): ``error`` at the
   lowest score whose held-out precision is >= 0.95, ``warning`` at the lowest whose
   band (scores between it and the error threshold) has held-out precision >= 0.70;
5. writes ``ocr_fix/data/evidence_model.json`` and prints the held-out figures: recall
   per error (an error or warning candidate overlaps it), precision of error+warning
   candidates (true: on an error; false: on an unaltered line), precision of ``error``,
   and recall per class.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from ocr_fix.decide import (  # noqa: E402
    DIGITS,
    EvidenceModel,
    KindModel,
    TreeModel,
    lexicon_term_missing,
    model_kind,
    row,
    two_words,
)
from ocr_fix.model import Finding, Kind  # noqa: E402

OUT = ROOT / ".bench" / "calibrate"
MODEL_PATH = ROOT / "ocr_fix" / "data" / "evidence_model.json"

_SECOND = [
    "second_read",
    "second_agrees_ocr",
    "second_agrees_transcript",
    "second_contradicts_both",
    "second_is_lexicon",
    "glyph_doubt",
]
_VERIFIER = ["verifier_scored", "clip:verifier_llr", "verifier_fit"]
#: Triage's rule verdict (see ocr_fix.pipeline.decide), in every kind's design.
_RULES = ["triage_rank", "rule_backed", "rule_pending"]
#: The design of each kind's ``first`` model; ``full`` adds the second reading.
DESIGN: dict[str, list[str]] = {
    "substitution": [
        "ocr_conf",
        "conf_floor",
        "conf_high",
        "case_only",
        "punct_only",
        "space_only",
        "hyphen_only",
        "footnote_mark",
        "marks_only",
        "t_in_lexicon",
        "o_in_lexicon",
        "t_is_word",
        "o_is_word",
        "t_is_word*o_is_word",
        "o_in_lexicon*t_is_word",
        "o_garbled",
        "t_pattern",
        "o_pattern",
        "digits",
        "both_numbers",
        "word_read_as_number",
        "lookalike_digit_in_transcript",
        "lookalike_digit_in_scan",
        "lookalike_letters",
        "edit_distance",
        "similarity",
        "t_near_term",
        "context_llr",
        "rarity",
        "repeats_neighbour",
        "restores_balance",
        "stop_fits_scan",
        "closed_word_mark",
        "scan_adds_comma",
        "scan_adds_stop",
        "scan_drops_mark",
        "marks_swapped",
        "mark_scored",
        "mark_llr",
        "letters_misread",
        "confusion_repeats",
        "span_words",
        "scan_words",
        "near_page_edge",
        "speaks",
        "speaks*t_is_word",
        "elsewhere",
        "t_unpaired_on_scan",
        "dehyphenated",
        *_VERIFIER,
        "verifier_scored*conf_high",
        "verifier_context",
        "punct_only*clip:verifier_llr",
        "digits*clip:verifier_llr",
        "clip:verifier_llr*similarity",
        "clip:verifier_llr*conf_high",
        "clip:verifier_t_gap",
        "clip:verifier_o_gap",
        "similarity*o_is_word",
        "lookalike_digit_in_transcript*o_is_word",
    ],
    "omission": [
        "span_words",
        "log:span_words",
        "span_conf",
        "mean_conf",
        "word_share",
        "lexicon_share",
        "all_numbers",
        "marks_only",
        "at_alignment_edge",
        "crosses_line",
        "near_page_edge",
        "speaks",
        "elsewhere",
        "whole_lines",
        "in_block",
        "whole_lines*in_block",
        "whole_lines*span_conf",
        "verifier_scored",
        "verifier_fit",
        "span_conf*word_share",
    ],
    "insertion": [
        "span_words",
        "neighbour_conf",
        "repeats_neighbour",
        "word_share",
        "all_numbers",
        "marks_only",
        "at_alignment_edge",
        "near_page_edge",
        "speaks",
    ],
}
#: Substitutions with a digit have weights of their own (see ocr_fix.decide.DIGITS), on
#: the same features.
DESIGN[DIGITS] = list(DESIGN["substitution"])
#: What a kind's ``full`` model adds to the second reading's features. Tesseract's LSTM
#: often weighs another digit for a glyph (glyph_doubt: 84 of 89 such digit candidates
#: were OCR noise); the image can still outweigh that doubt. Without this term a
#: transcript's "23" against a confident "21" the verifier backed by 10 nats fell to info.
FULL_EXTRA: dict[str, list[str]] = {DIGITS: ["glyph_doubt*clip:verifier_llr"]}
#: Features whose coefficient must not be negative (monotonic sanity): more evidence
#: from the image for the scan's reading never lowers P(transcript wrong), nor does the
#: image explaining the transcript's reading worse (the gaps: see ocr_fix.crosscheck).
#: Measured with the gaps (five seeds, held out): recall 0.914 -> 0.922 at precision
#: 0.954 -> 0.955; without the signs 0.923 (the full substitution model's transcript gap
#: came out at -0.001 and is dropped); as log(1 + gap) 0.919; with products by
#: punct_only or similarity 0.918 / 0.919; the gap of an omission's reading: no change.
NON_NEGATIVE = {"clip:verifier_llr", "second_agrees_ocr", "clip:verifier_t_gap"}
NON_POSITIVE = {"second_agrees_transcript", "clip:verifier_o_gap"}


def _increasing(name: str) -> bool:
    """A design column whose coefficient must not be negative: the monotonic features
    and every product of them with a non-negative feature."""
    return name in NON_NEGATIVE or name.startswith("clip:verifier_llr*")


def design(kind: str, stage: str) -> list[str]:
    names = list(DESIGN[kind]) + _RULES
    if stage == "full" and kind != "insertion":
        names += _SECOND + FULL_EXTRA.get(kind, [])
    return names


# ---- collecting candidates ---------------------------------------------------------


class _Collect(EvidenceModel):
    """A stand-in model for collecting: every disagreement gets the verifier's scores,
    every disputed line its second reading, nothing is decided."""

    def __init__(self) -> None:
        super().__init__({}, 1.0, 1.0, 0.0, {})

    def judges(self, f: Finding) -> bool:
        return f.kind in (Kind.SUBSTITUTION, Kind.OMISSION, Kind.INSERTION) and bool(f.features)

    def wants_second_reading(self, f: Finding) -> bool:
        return self.judges(f) and not f.feature("second_read")

    def wants_verifier(self, f: Finding) -> bool:
        return True

    def decide(self, findings: Sequence[Finding]) -> list[Finding]:
        return list(findings)


def _line_starts(text: str) -> list[int]:
    starts = [0]
    for i, c in enumerate(text):
        if c == "\n":
            starts.append(i + 1)
    return starts


def _error_span(e: dict[str, Any], starts: list[int]) -> tuple[int, int]:
    a = starts[e["line"] - 1] + e["column"] - 1
    return a, a + max(len(e["wrong"]), 1)


def _error_lines(e: dict[str, Any]) -> set[int]:
    return set(range(e["line"], e["line"] + e["wrong"].count("\n") + 1))


def label(f: Finding, errors: list[dict[str, Any]], starts: list[int]) -> tuple[int | None, int | None]:
    """(label, index of the error it overlaps): 1 on an error, 0 on an untouched line,
    None otherwise (and for swapped lines, which the line-order check reports, unless
    ``f`` is that check's finding)."""
    moved = f.kind is Kind.LINE_ORDER
    t = f.transcript
    assert t is not None
    lo, hi = t.start, max(t.end, t.start + 1)
    first_line = t.line
    last_line = t.end_line or t.line
    for k, e in enumerate(errors):
        a, b = _error_span(e, starts)
        pad = 3 if e["kind"] == "omission" else 0
        if lo < b + pad and hi > a - pad:
            if (e.get("class", e["kind"]) == "line-order") != moved:
                return None, k
            return 1, k
    touched = set().union(*(_error_lines(e) for e in errors)) if errors else set()
    if any(n in touched for n in range(first_line, last_line + 1)):
        return None, None
    return 0, None


def collect(s: Any, seed: int, verifier: Any) -> dict[str, Any]:
    """Run the check on one set and keep every candidate with its features and label."""
    from ocr_fix.pipeline import CheckOptions, OcrRun, check

    path = OUT / f"seed-{seed}" / f"{s.name}.json"
    if path.is_file() and path.stat().st_mtime >= s.transcript.stat().st_mtime:
        return json.loads(path.read_text(encoding="utf-8"))
    t0 = time.perf_counter()
    options = CheckOptions(model=_Collect(), verifier=verifier, language=s.lang)
    lexicons = [s.lexicon] if s.lexicon else []
    result = check(s.transcript, list(s.scans), lexicons, OcrRun(lang=s.lang, jobs=1), options=options)
    errors = json.loads(s.errors.read_text(encoding="utf-8"))
    starts = _line_starts(result.transcript.text)
    rows = []
    for f in result.findings:
        ordered = f.kind is Kind.LINE_ORDER
        if f.transcript is None or not (ordered or (f.kind.value in DESIGN and f.features)):
            continue
        y, k = label(f, errors, starts)
        rows.append(
            {
                "kind": f.kind.value,
                "features": dict(f.features),
                "label": y,
                "error": k,
                "line": f.transcript.line,
                "text": f.transcript.text,
                "scan": f.scan.text if f.scan else "",
                "suggestion": f.suggestion,
            }
        )
    doc = {
        "name": s.name,
        "group": s.group,
        "words": s.words,
        "errors": [
            {"class": e.get("class", e["kind"]), "kind": e["kind"], "line": e["line"], "wrong": e["wrong"]}
            for e in errors
        ],
        "rows": rows,
        "seconds": round(time.perf_counter() - t0, 1),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return doc


# ---- fitting -------------------------------------------------------------------------


@dataclass
class Data:
    x: np.ndarray
    y: np.ndarray
    names: list[str]


def _matrix(rows: list[dict[str, Any]], names: list[str]) -> np.ndarray:
    return np.array([row(r["features"], names) for r in rows]) if rows else np.zeros((0, len(names)))


#: Groups whose unaltered transcripts are human transcriptions (with real, uncatalogued
#: slips); the synth and bundled-golden pages were rendered from their transcripts.
def human(group: str) -> bool:
    return not group.startswith("synth") and group != "psis"


#: Verifier margin (nats) for a punctuation difference to count as a suspected slip.
PUNCT_SLIP_LLR = 4.0


def suspected_slip(group: str, r: dict[str, Any]) -> bool:
    """A candidate on an unaltered line of a human transcript where the scan contradicts
    the transcript with a confident reading that a second reader does not overturn —
    the signature of a real slip of the transcriber (``daugther``, ``changers``, a
    dropped ``of``). Such candidates are left out of the fit and of the precision count
    instead of being counted as false alarms (the realdata review lists what the model
    flags there). Substitutions: the scan's reading confident (>= 0.85), the verifier
    preferring it by 5 nats or more, the readings alike (similarity >= 0.5: not two
    unrelated words the alignment paired), the second reading not agreeing with the
    transcript. Omissions: words read at >= 0.90, all of them words, the second reading
    agreeing, within one line. Punctuation (no case, spacing or hyphenation difference):
    the same, and the second reading agreeing with the first; of 23 such candidates on
    the realdata transcripts looked at by eye, 19 were the transcriber's (commas of
    modern German orthography added to a 1940s typescript, full stops after headings the
    typist left bare, ``Mrs`` for ``Mrs.``)."""
    f = r["features"]
    if not human(group) or r["label"] != 0 or f.get("case_only"):
        return False
    if f.get("punct_only"):
        return (
            r["kind"] == "substitution"
            and not (f.get("space_only") or f.get("dehyphenated"))
            and f.get("ocr_conf", 0) >= 0.85
            and f.get("verifier_llr", 0) >= PUNCT_SLIP_LLR
            and f.get("second_agrees_ocr", 0) == 1
        )
    if r["kind"] == "substitution":
        return (
            f.get("ocr_conf", 0) >= 0.85
            and f.get("verifier_llr", 0) >= 5
            and f.get("similarity", 0) >= 0.5
            and not f.get("second_agrees_transcript")
        )
    if r["kind"] == "omission":
        return (
            f.get("span_conf", 0) >= 0.9
            and f.get("word_share", 0) == 1
            and f.get("second_agrees_ocr", 0) == 1
            and not f.get("crosses_line")
        )
    return False


AUDIT = ROOT / "bench" / "real_findings_audit.md"


def audited(path: Path = AUDIT) -> dict[tuple[str, str, str], str]:
    """The verdicts of the realdata audit (``bench/real_findings_audit.md``: every
    error/warning finding on an unaltered human transcript judged by eye against its
    scan crop): ``(document, transcript cell, scan cell)`` (cells as
    :func:`audit_real.cell` writes them) -> ``slip`` / ``false alarm`` / ``unclear``."""
    from audit_real import table

    return {(c[2], c[4], c[5]): c[10] for c in table(path)}


def apply_audit(docs: list[dict[str, Any]]) -> int:
    """Candidates on unaltered lines of the human transcripts that the audit judged
    real slips of the transcriber are labelled 1 (the transcript is wrong there: the
    human ground truth has slips, and the model must not learn to talk them down);
    ``unclear`` ones are left out. Their number."""
    from audit_real import cell

    verdicts = audited()
    n = 0
    for d in docs:
        if not human(d["group"]):
            continue
        for r in d["rows"]:
            v = verdicts.get((d["name"], cell(r["text"]), cell(r["scan"])))
            if r["label"] != 0 or v is None:
                continue
            if v == "slip":
                r["label"], r["slip"] = 1, True
                n += 1
            elif v == "unclear":
                r["label"] = None
    return n


def unlabel_slips(docs: list[dict[str, Any]]) -> list[str]:
    """Relabel suspected real slips (:func:`suspected_slip`) as unknown; their list."""
    out = []
    for d in docs:
        for r in d["rows"]:
            if suspected_slip(d["group"], r):
                r["label"] = None
                r["slip"] = True
                out.append(f"{d['name']}:{r['line']} {r['text']!r} -> {r['suggestion']!r}")
    return out


def fit_one(rows: list[dict[str, Any]], names: list[str], c: float = 0.5) -> KindModel:
    """A regularised logistic regression on standardised features; features whose sign
    contradicts :data:`NON_NEGATIVE` / :data:`NON_POSITIVE` are dropped and the fit redone."""
    from sklearn.linear_model import LogisticRegression

    names = list(names)
    y = np.array([r["label"] for r in rows], dtype=float)
    while True:
        x = _matrix(rows, names)
        mean = x.mean(axis=0) if len(x) else np.zeros(len(names))
        scale = x.std(axis=0) if len(x) else np.ones(len(names))
        scale[scale < 1e-9] = 1.0
        if len(set(y)) < 2:
            p = float(np.clip(y.mean() if len(y) else 0.0, 1e-3, 1 - 1e-3))
            return KindModel(tuple(names), mean, scale, np.zeros(len(names)), float(np.log(p / (1 - p))))
        lr = LogisticRegression(C=c, max_iter=5000)
        lr.fit((x - mean) / scale, y)
        coef = lr.coef_[0]
        bad = [
            n
            for n, w in zip(names, coef, strict=True)
            if (_increasing(n) and w < 0) or (n in NON_POSITIVE and w > 0)
        ]
        if not bad:
            return KindModel(tuple(names), mean, scale, coef, float(lr.intercept_[0]))
        names = [n for n in names if n not in bad]


def fit_trees(rows: list[dict[str, Any]], names: list[str]) -> TreeModel | KindModel:
    """Small gradient-boosted trees (depth 3), monotonic in the features of
    :data:`NON_NEGATIVE` (increasing) and :data:`NON_POSITIVE` (decreasing); exported to
    plain arrays that :class:`ocr_fix.decide.TreeModel` evaluates."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    y = np.array([r["label"] for r in rows], dtype=int)
    if len(set(y)) < 2 or len(y) < 30:
        return fit_one(rows, names)
    x = _matrix(rows, names)
    cst = [1 if _increasing(n) else -1 if n in NON_POSITIVE else 0 for n in names]
    clf = HistGradientBoostingClassifier(
        max_depth=3,
        max_iter=150,
        learning_rate=0.08,
        min_samples_leaf=15,
        l2_regularization=1.0,
        monotonic_cst=cst,
        random_state=0,
    )
    clf.fit(x, y)
    trees = []
    for (predictor,) in clf._predictors:
        nodes = predictor.nodes
        trees.append(
            {
                "feature": np.asarray(nodes["feature_idx"], dtype=int),
                "threshold": np.asarray(nodes["num_threshold"], dtype=float),
                "left": np.asarray(nodes["left"], dtype=int),
                "right": np.asarray(nodes["right"], dtype=int),
                "value": np.asarray(nodes["value"], dtype=float),
                "leaf": np.asarray(nodes["is_leaf"], dtype=bool),
            }
        )
    model = TreeModel(tuple(names), float(np.ravel(clf._baseline_prediction)[0]), tuple(trees))
    check = clf.decision_function(x[:50])
    mine = np.array([model.logit(r["features"]) for r in rows[:50]])
    assert np.allclose(check, mine, atol=1e-6), "tree export does not reproduce scikit-learn"
    return model


KIND = "logistic"


def fit(docs: list[dict[str, Any]]) -> dict[tuple[str, str], KindModel | TreeModel]:
    fitter = fit_trees if KIND == "trees" else fit_one
    models: dict[tuple[str, str], KindModel | TreeModel] = {}
    for kind in DESIGN:
        rows = [
            r
            for d in docs
            for r in d["rows"]
            if model_kind(r["kind"], r["features"]) == kind and r["label"] is not None
        ]
        rows = [r for r in rows if r["features"]]
        # The same candidates as they would look without the verifier (onnxruntime not
        # installed, an engine whose pages cannot be asked): the model learns what the
        # other evidence says on its own instead of reading a missing LLR as "neutral".
        rows = rows + [{**r, "features": _without_verifier(r["features"])} for r in rows]
        models[(kind, "first")] = fitter(rows, design(kind, "first"))
        if kind != "insertion":
            reread = [r for r in rows if r["features"].get("second_read")]
            models[(kind, "full")] = fitter(reread, design(kind, "full"))
    return models


def _without_verifier(features: dict[str, float]) -> dict[str, float]:
    return {k: v for k, v in features.items() if not k.startswith("verifier_")}


def asks_verifier(
    models: dict[tuple[str, str], KindModel | TreeModel], kind: str, f: dict[str, float], reread: float
) -> bool:
    """Whether ``check`` asks the verifier about this candidate: the test of
    :meth:`ocr_fix.decide.EvidenceModel.wants_verifier` on its features before the
    verifier speaks (both readings words, a lexicon term the transcript lacks, or a
    first score of at least ``reread``)."""
    if two_words(f) or lexicon_term_missing(f):
        return True
    return models[(kind, "first")].score(_without_verifier(f)) >= reread


def predict(models: dict[tuple[str, str], KindModel | TreeModel], r: dict[str, Any], reread: float) -> float:
    """The score ``check`` gives the candidate: the verifier's features only where it
    would be asked (:func:`asks_verifier`), the ``full`` model where a second reading
    would be made."""
    if r["kind"] not in DESIGN:
        return LINE_ORDER  # a line-order finding: a fixed warning
    kind = model_kind(r["kind"], r["features"])
    if not asks_verifier(models, kind, r["features"], reread):
        r = {**r, "features": _without_verifier(r["features"])}
    first = models[(kind, "first")].score(r["features"])
    full = models.get((kind, "full"))
    if full is not None and first >= reread and r["features"].get("second_read"):
        return full.score(r["features"])
    return first


#: False alarms per 1,000 words the ``error`` threshold may give on the human
#: transcripts' unaltered lines, held out: the issue's bound on real transcripts (1.0)
#: with a margin, because this estimate has run under the realdata audit's count (0.89
#: held out against 1.18 in the audit, at one threshold; with the marks' ink, 0.77 held
#: out against 0.98 in the audit at a bound of 0.8). Three of those audit false alarms
#: were the sets' ``~`` placeholders, editorial marks since: at 0.7 the audit then found
#: 0.66 against 0.70 held out, and 0.75 gives recall 0.930 held out against 0.923.
MAX_FALSE_PER_1000 = 0.75


def thresholds(docs: list[dict[str, Any]], scores: dict[int, float]) -> tuple[float, float]:
    """(error, warning) thresholds from held-out ``scores`` of the candidates of ``docs``
    (:func:`choose_thresholds` with the human transcripts' false alarms and words)."""
    pairs = [
        (scores[id(r)], r["label"])
        for d in docs
        for r in d["rows"]
        if r["label"] is not None and r["kind"] in DESIGN
    ]
    return choose_thresholds(pairs, *human_false(docs, scores))


def _beside_errors(d: dict[str, Any]) -> set[int]:
    """The transcript lines of ``d`` an injected error touches, and one line either side."""
    out: set[int] = set()
    for e in d["errors"]:
        out.update(range(e["line"] - 1, e["line"] + e["wrong"].count("\n") + 2))
    return out


def human_false(docs: list[dict[str, Any]], scores: dict[int, float]) -> tuple[list[float], int]:
    """The ``scores`` of the candidates on the human transcripts' unaltered lines, and
    those transcripts' words. A line beside an injected error is left out: what an
    injected swap or dropped clause does to its neighbours (a word paired across the
    gap) counts against precision, but an unaltered transcript has no such neighbours,
    and the bound stands for the realdata audit of unaltered transcripts. Measured on
    the two-seed sets: 15 of the 47 false alarms scoring 0.55 or more lay beside an
    injected line swap or dropped clause."""
    human_docs = [d for d in docs if human(d["group"])]
    false = []
    for d in human_docs:
        beside = _beside_errors(d)
        false += [
            scores[id(r)]
            for r in d["rows"]
            if r["label"] == 0 and r["kind"] in DESIGN and r["line"] not in beside
        ]
    return false, sum(d["words"] for d in human_docs)


def choose_thresholds(
    scored: list[tuple[float, int]], false: Sequence[float] = (), words: int = 0
) -> tuple[float, float]:
    """(error, warning) thresholds on held-out ``(score, label)`` pairs: ``error`` the
    lowest score above which at least 95 % are right and, given the ``false`` scores of
    candidates on unaltered lines of human transcripts of ``words`` words, no more than
    :data:`MAX_FALSE_PER_1000` of them per 1,000 words reach it; ``warning`` the lowest
    below it where the band between them is right at least 70 % of the time, every
    flagged candidate together still at least 95 % (the precision the issue asks of
    error + warning) and the false-alarm bound still holds. The bound is measured here, on
    held-out scores, because the injected sets alone put the threshold where the realdata
    review found 1.2 false alarms per 1,000 words."""
    pairs = sorted(scored, key=lambda p: -p[0])
    error = 1.0
    tp = 0
    for i, (s, y) in enumerate(pairs, start=1):
        tp += y
        if i >= 20 and tp / i >= 0.95:
            error = s
    allowed = int(MAX_FALSE_PER_1000 * words / 1000)
    ranked = sorted(false, reverse=True)
    # the lowest candidate score above the (allowed + 1)-th highest false alarm
    floor = min((s for s, _ in pairs if s > ranked[allowed]), default=1.0) if len(ranked) > allowed else 0.0
    error = max(error, floor)
    warning = error
    above = [y for s, y in pairs if s >= error]
    all_tp, all_n = sum(above), len(above)
    band_tp = 0
    for band_n, (s, y) in enumerate(pairs[len(above) :], start=1):
        band_tp += y
        if s < floor:
            break
        if band_n >= 10 and band_tp / band_n >= 0.70 and (all_tp + band_tp) / (all_n + band_n) >= 0.95:
            warning = s
    return round(error, 4), round(warning, 4)


def evaluate(
    docs: list[dict[str, Any]], scores: dict[int, float], error: float, warning: float
) -> dict[str, Any]:
    """Held-out figures: recall per error, precision of flagged candidates, per class."""
    found: Counter[str] = Counter()
    total: Counter[str] = Counter()
    flagged_true = flagged_false = err_true = err_false = 0
    false_alarms: list[str] = []
    for d in docs:
        hit: set[int] = set()
        for r in d["rows"]:
            s = scores[id(r)]
            if s == LINE_ORDER:
                s = warning
            elif s < warning:
                continue
            if r["label"] == 1:
                flagged_true += 1
                err_true += s >= error
                hit.add(r["error"])
            elif r["label"] == 0:
                flagged_false += 1
                err_false += s >= error
                false_alarms.append(f"{d['name']}:{r['line']} {r['text']!r}->{r['suggestion']!r} {s:.2f}")
        for k, e in enumerate(d["errors"]):
            total[e["class"]] += 1
            found[e["class"]] += k in hit
    n = sum(total.values())
    return {
        "recall": sum(found.values()) / n if n else 1.0,
        "precision": flagged_true / max(flagged_true + flagged_false, 1),
        "error_precision": err_true / max(err_true + err_false, 1),
        "errors": n,
        "flagged": flagged_true + flagged_false,
        "per_class": {k: (found[k], total[k]) for k in sorted(total)},
        "false_alarms": false_alarms,
    }


def loso(docs: list[dict[str, Any]], reread: float) -> dict[int, float]:
    """Held-out score of every labelled candidate: fitted without its group."""
    out: dict[int, float] = {}
    for g in sorted({d["group"] for d in docs}):
        train = [d for d in docs if d["group"] != g]
        models = fit(train)
        for d in docs:
            if d["group"] == g:
                for r in d["rows"]:
                    out[id(r)] = predict(models, r, reread)
    return out


REREAD = 0.05
#: The held-out "score" of a line-order finding, which the model does not judge: a warning.
LINE_ORDER = -1.0


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description="fit the evidence model (see the module docstring)")
    ap.add_argument("--seeds", default="1", help="comma-separated injection seeds")
    ap.add_argument("--groups", help="only these groups (comma-separated)")
    ap.add_argument("--refit", action="store_true", help="fit from the collected files only")
    ap.add_argument("--dry-run", action="store_true", help="do not write the weights file")
    ap.add_argument("--model", choices=["logistic", "trees"], default="logistic")
    a = ap.parse_args(argv)
    seeds = [int(x) for x in a.seeds.split(",")]
    global KIND
    KIND = a.model
    groups = set(a.groups.split(",")) if a.groups else None
    docs: list[dict[str, Any]] = []
    if a.refit:
        for seed in seeds:
            for p in sorted((OUT / f"seed-{seed}").glob("*.json")):
                d = json.loads(p.read_text(encoding="utf-8"))
                if groups is None or d["group"] in groups:
                    docs.append(d)
    else:
        from sets import build_sets

        from ocr_fix.pipeline import cache_for, engine_for, verifier_for

        verifier = verifier_for(engine_for(), cache_for(False, None))
        for seed in seeds:
            for s in build_sets(ROOT, seed, groups=groups):
                d = collect(s, seed, verifier)
                print(
                    f"[collect] seed {seed} {s.group:16s} {s.name:28s} {len(d['rows']):5d} candidates"
                    f" {d['seconds']:6.1f}s",
                    flush=True,
                )
                docs.append(d)
    confirmed = apply_audit(docs)
    slips = unlabel_slips(docs)
    labelled = Counter(r["label"] for d in docs for r in d["rows"])
    print(
        f"{len(docs)} sets, {sum(labelled.values())} candidates: {labelled[1]} on errors, {labelled[0]} on"
        f" unaltered lines, {labelled[None]} left out"
        f" ({len(slips)} of them suspected real slips of the human transcribers); {confirmed} real slips"
        " confirmed by the realdata audit labelled 1"
    )
    held = loso(docs, REREAD)
    error, warning = thresholds(docs, held)
    res = evaluate(docs, held, error, warning)
    print(f"\nthresholds (from held-out scores): error >= {error}, warning >= {warning}")
    false_scores, words = human_false(docs, held)
    false = sum(s >= warning for s in false_scores)
    print(
        f"false alarms on the human transcripts' unaltered lines, held out: {false} in {words} words"
        f" = {1000 * false / max(words, 1):.2f} per 1,000"
    )
    _print("leave-one-group-out", res)
    for g in sorted({d["group"] for d in docs}):
        sub = evaluate([d for d in docs if d["group"] == g], held, error, warning)
        print(
            f"  held out {g:16s} recall {sub['recall']:.3f} ({sub['errors']:3d} errors)  precision"
            f" {sub['precision']:.3f}  error-precision {sub['error_precision']:.3f}  flagged {sub['flagged']}"
        )
    models = fit(docs)
    fitted = {id(r): predict(models, r, REREAD) for d in docs for r in d["rows"]}
    res_fit = evaluate(docs, fitted, error, warning)
    _print("fit (all groups, scored on themselves)", res_fit)
    if not a.dry_run:
        info = {
            "seeds": seeds,
            "sets": len(docs),
            "candidates": dict((str(k), v) for k, v in labelled.items()),
            "suspected_slips": len(slips),
            "held_out": {k: v for k, v in res.items() if k != "false_alarms"},
            "fit": {k: v for k, v in res_fit.items() if k != "false_alarms"},
        }
        model = EvidenceModel(models, error, warning, REREAD, info)
        MODEL_PATH.parent.mkdir(parents=True, exist_ok=True)
        MODEL_PATH.write_text(json.dumps(model.to_dict(), indent=1) + "\n", encoding="utf-8")
        print(f"\nwrote {MODEL_PATH.relative_to(ROOT)}")
    return 0


def _print(title: str, res: dict[str, Any]) -> None:
    print(f"\n== {title} ==")
    print(
        f"recall {res['recall']:.3f} ({res['errors']} errors)  precision {res['precision']:.3f}"
        f"  error precision {res['error_precision']:.3f}  flagged {res['flagged']}"
    )
    for k, (f, n) in res["per_class"].items():
        print(f"  {k:16s} {f:4d}/{n:<4d} {f / n if n else 1:.2f}")
    for fa in res["false_alarms"][:15]:
        print("  false alarm:", fa)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
