"""The evidence model: features of a disagreement -> P(the transcript is wrong here).

One logistic regression per kind of finding (substitution, omission, insertion) and
stage: ``first`` sees what triage and the verifier know; ``full`` also sees a second
Tesseract reading of the line. A finding whose first score lies in the re-read band
(``reread`` in the weights file) is read again and scored by its ``full`` model.
Severity comes from thresholds on the score that ``bench/calibrate.py`` chose on
held-out data: ``error`` where the held-out precision was at least 0.95, ``warning``
where it was at least 0.70, ``info`` below.

Inference is plain numpy: standardise, dot product, logistic. The weights, thresholds
and the figures they were fitted with live in ``ocr_fix/data/evidence_model.json``,
written by ``make calibrate``. Derived features (products of two named features) are
spelled ``a*b``; ``clip:name`` is ``name`` clipped to ``±CLIP``; ``log:name`` is
``log(1 + name)`` (a count whose effect flattens: a dropped clause is a few words, an
untranscribed letterhead dozens).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cache
from importlib import resources
from typing import Any

import numpy as np

from ocr_fix.model import Finding, Kind, Severity

__all__ = [
    "CLIP",
    "DIGITS",
    "KINDS",
    "EvidenceModel",
    "KindModel",
    "TreeModel",
    "lexicon_term_missing",
    "load_model",
    "model_kind",
    "row",
    "two_words",
]

#: Kinds of findings the model scores; every other kind keeps the severity it was given.
KINDS = (Kind.SUBSTITUTION, Kind.OMISSION, Kind.INSERTION)
#: Log-likelihood ratios beyond this (nats) say nothing more.
CLIP = 20.0
#: The model of substitutions where either reading holds a digit (dates, file numbers,
#: a digit typed for a letter): there the dictionary says nothing and the image says
#: most, and one set of weights for them and for words held numbers down. Measured on
#: the calibration sets (two seeds, held out): number recall 0.76 with the words' model,
#: 0.83 with its own, overall recall unchanged (0.900).
DIGITS = "digit_substitution"


def model_kind(kind: str, features: Mapping[str, float]) -> str:
    """The model that scores a finding of ``kind`` (a :class:`Kind` value) with
    ``features``: :data:`DIGITS` for a substitution with a digit, else the kind."""
    return DIGITS if kind == Kind.SUBSTITUTION.value and features.get("digits") else kind


def row(features: Mapping[str, float], names: Sequence[str]) -> np.ndarray:
    """The design row for ``names`` (missing features are 0; see the module docstring
    for ``a*b`` and ``clip:name``)."""

    def value(part: str) -> float:
        if part.startswith("clip:"):
            return max(-CLIP, min(CLIP, features.get(part[5:], 0.0)))
        if part.startswith("log:"):
            return math.log1p(max(0.0, features.get(part[4:], 0.0)))
        return features.get(part, 0.0)

    out = np.zeros(len(names))
    for i, name in enumerate(names):
        x = 1.0
        for part in name.split("*"):
            x *= value(part)
        out[i] = x
    return out


@dataclass(frozen=True)
class KindModel:
    """A logistic regression over standardised features."""

    names: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> KindModel:
        return cls(
            tuple(d["features"]),
            np.asarray(d["mean"], dtype=float),
            np.asarray(d["scale"], dtype=float),
            np.asarray(d["coef"], dtype=float),
            float(d["intercept"]),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "features": list(self.names),
            "mean": [round(float(x), 6) for x in self.mean],
            "scale": [round(float(x), 6) for x in self.scale],
            "coef": [round(float(x), 6) for x in self.coef],
            "intercept": round(self.intercept, 6),
        }

    def logit(self, features: Mapping[str, float]) -> float:
        x = (row(features, self.names) - self.mean) / self.scale
        return float(x @ self.coef + self.intercept)

    def score(self, features: Mapping[str, float]) -> float:
        z = self.logit(features)
        return 1.0 / (1.0 + math.exp(-z)) if z > -700 else 0.0


@dataclass(frozen=True)
class TreeModel:
    """Gradient-boosted trees (fitted by scikit-learn's ``HistGradientBoostingClassifier``,
    evaluated here): the logit is ``baseline`` plus, per tree, the value of the leaf
    reached by going left where ``x[feature] <= threshold``."""

    names: tuple[str, ...]
    baseline: float
    trees: tuple[dict[str, np.ndarray], ...]

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> TreeModel:
        trees = tuple(
            {
                "feature": np.asarray(t["feature"], dtype=int),
                "threshold": np.asarray(t["threshold"], dtype=float),
                "left": np.asarray(t["left"], dtype=int),
                "right": np.asarray(t["right"], dtype=int),
                "value": np.asarray(t["value"], dtype=float),
                "leaf": np.asarray(t["leaf"], dtype=bool),
            }
            for t in d["trees"]
        )
        return cls(tuple(d["features"]), float(d["baseline"]), trees)

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": "trees",
            "features": list(self.names),
            "baseline": round(self.baseline, 6),
            "trees": [
                {
                    "feature": [int(x) for x in t["feature"]],
                    "threshold": [round(float(x), 6) for x in t["threshold"]],
                    "left": [int(x) for x in t["left"]],
                    "right": [int(x) for x in t["right"]],
                    "value": [round(float(x), 6) for x in t["value"]],
                    "leaf": [bool(x) for x in t["leaf"]],
                }
                for t in self.trees
            ],
        }

    def logit(self, features: Mapping[str, float]) -> float:
        x = row(features, self.names)
        z = self.baseline
        for t in self.trees:
            node = 0
            while not t["leaf"][node]:
                node = int(
                    t["left"][node] if x[t["feature"][node]] <= t["threshold"][node] else t["right"][node]
                )
            z += float(t["value"][node])
        return z

    def score(self, features: Mapping[str, float]) -> float:
        z = self.logit(features)
        return 1.0 / (1.0 + math.exp(-z)) if z > -700 else 0.0


def _kind_model(d: Mapping[str, Any]) -> KindModel | TreeModel:
    return TreeModel.from_dict(d) if d.get("type") == "trees" else KindModel.from_dict(d)


@dataclass(frozen=True)
class EvidenceModel:
    """Per-kind ``first`` and ``full`` models and the severity thresholds."""

    models: Mapping[tuple[str, str], KindModel | TreeModel]
    error: float
    warning: float
    reread: float
    info: Mapping[str, Any]

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> EvidenceModel:
        models = {
            (kind, stage): _kind_model(m)
            for kind, stages in d["models"].items()
            for stage, m in stages.items()
        }
        t = d["thresholds"]
        return cls(models, float(t["error"]), float(t["warning"]), float(t["reread"]), d.get("fit", {}))

    def to_dict(self) -> dict[str, Any]:
        kinds: dict[str, dict[str, Any]] = {}
        for (kind, stage), m in sorted(self.models.items()):
            kinds.setdefault(kind, {})[stage] = m.to_dict()
        return {
            "thresholds": {"error": self.error, "warning": self.warning, "reread": self.reread},
            "models": kinds,
            "fit": dict(self.info),
        }

    def _kind(self, f: Finding) -> str:
        """:func:`model_kind` of ``f``, or its kind where the weights have no such model."""
        kind = model_kind(f.kind.value, dict(f.features))
        return kind if (kind, "first") in self.models else f.kind.value

    def judges(self, f: Finding) -> bool:
        return f.kind in KINDS and bool(f.features) and (self._kind(f), "first") in self.models

    def score(self, f: Finding) -> float:
        """P(the transcript is wrong at ``f``): the ``full`` model once the line has a
        second reading, the ``first`` one before."""
        kind = self._kind(f)
        stage = "full" if f.feature("second_read") and (kind, "full") in self.models else "first"
        return self.models[(kind, stage)].score(dict(f.features))

    def severity(self, score: float) -> Severity:
        if score >= self.error:
            return Severity.ERROR
        if score >= self.warning:
            return Severity.WARNING
        return Severity.INFO

    def wants_second_reading(self, f: Finding) -> bool:
        """A finding whose first score could change severity with a second reading; and a
        lexicon term the transcript lacks, however low Tesseract's confidence in it
        (Tesseract scores a clean word beside a speck near 0; a term is rarely noise)."""
        if not self.judges(f) or f.feature("second_read"):
            return False
        return lexicon_term_missing(dict(f.features)) or self.score(f) >= self.reread

    def wants_verifier(self, f: Finding) -> bool:
        """The same test before the verifier has spoken: a finding whose score on what
        triage knows is below ``reread`` is OCR noise the image need not be asked about,
        unless both readings are words (``part`` / ``smart``: word-pair context can favour
        the wrong one, and only the image tells them apart). Measured on the calibration
        sets (held out): the verifier is asked about 39 % of the candidates, and recall
        (0.837), precision and the thresholds are those of asking about all (without the
        exception: 34 %, recall 0.835)."""
        if f.has("verifier_scored") or not self.judges(f):
            return False
        return two_words(dict(f.features)) or self.wants_second_reading(f)

    def decide(self, findings: Sequence[Finding]) -> list[Finding]:
        """``findings`` with ``score`` and ``severity`` set from the model (others as given).

        A typewriter substitute on the scan (``ss`` for ``ß``, ``Fuer`` for ``Für``) that
        the transcript writes as the character the typist meant keeps its score but stays
        ``info``: whether to expand such substitutes is the collection's transcription
        convention, not a slip the evidence could decide (the injected sets have none to
        fit on)."""
        out = []
        for f in findings:
            if self.judges(f):
                p = self.score(f)
                severity = Severity.INFO if f.feature("typewriter_on_scan") else self.severity(p)
                out.append(replace(f, score=round(p, 4), severity=severity))
            else:
                out.append(f)
        return out


def lexicon_term_missing(features: Mapping[str, float]) -> bool:
    """The scan reads a lexicon term the transcript lacks: put to the image whatever the
    first score (Tesseract scores a clean word beside a speck near 0; a term is rarely noise)."""
    return bool(features.get("o_in_lexicon")) and not features.get("t_in_lexicon")


def two_words(features: Mapping[str, float]) -> bool:
    """Both readings are words and differ in more than case or punctuation: word-pair
    context can favour the wrong one, and only the image tells them apart."""
    both = features.get("t_is_word") and features.get("o_is_word")
    return bool(both) and not (features.get("punct_only") or features.get("case_only"))


MODEL_FILE = "evidence_model.json"


@cache
def load_model() -> EvidenceModel | None:
    """The shipped model (``ocr_fix/data/evidence_model.json``), None if not yet fitted."""
    try:
        text = resources.files("ocr_fix").joinpath("data").joinpath(MODEL_FILE).read_text(encoding="utf-8")
    except (FileNotFoundError, OSError):
        return None
    return EvidenceModel.from_dict(json.loads(text))
