"""``--format json``: the stable ``ocr-fix/check/1`` document for scripts.

Built from dicts and ``json.dumps``; keys and their meaning are part of the interface
(README, "JSON output"). New keys may be added; none is renamed or removed within /1.
A call with several transcripts writes one ``ocr-fix/checks/1`` document whose
``results`` are their ``ocr-fix/check/1`` documents, in the order given.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from ocr_fix import __version__
from ocr_fix.model import Finding, Severity
from ocr_fix.pipeline import CheckResult
from ocr_fix.report import explain
from ocr_fix.report.formats import RenderOptions, ReportFormat
from ocr_fix.suppress import fingerprint

SCHEMA = "ocr-fix/check/1"
MANY_SCHEMA = "ocr-fix/checks/1"


def finding_dict(f: Finding, text: str | None = None) -> dict[str, Any]:
    """``f`` as JSON; with the transcript's ``text``, also its context ``fingerprint``
    (what ``--baseline`` matches on)."""
    t = f.transcript
    s = f.scan
    out: dict[str, Any] = {
        "severity": f.severity.value,
        "kind": f.kind.value,
        "transcript": None
        if t is None
        else {
            "line": t.line,
            "column": t.column,
            "end_column": t.end_column,
            "text": t.text,
            **({"end_line": t.end_line} if t.end_line else {}),
            **({"element": t.element} if t.element else {}),
            "offset": t.start,
            "end_offset": t.end,
        },
        "scan": None
        if s is None
        else {
            "page": s.page,
            "line": s.line,
            "text": s.text,
            "confidence": s.confidence,
            "bbox": s.bbox.as_list() if s.bbox else None,
            "image": s.image,
        },
        "suggestion": f.suggestion,
        "message": explain.message(f),
    }
    if f.features:
        out["score"] = None if f.score is None else round(f.score, 4)
        out["features"] = {k: v for k, v in f.features}
        out["evidence"] = explain.reasons(f)
    if text is not None:
        out["fingerprint"] = fingerprint(f, text)
    return out


def result_dict(r: CheckResult) -> dict[str, Any]:
    return {
        "schema": SCHEMA,
        "tool": f"ocr-fix {__version__}",
        "transcript": str(r.transcript.path),
        "transcript_sha256": r.transcript.sha256,
        "scans": list(r.scans),
        "mode": "scans" if r.scans else "lexicon-only",
        "agreement": None if r.agreement is None else round(r.agreement, 4),
        "page_order": list(r.order),
        "pages": [
            {
                "page": p.page,
                "image": p.image,
                "cer": p.cer,
                "mean_confidence": p.mean_confidence,
                "words": p.words,
                "agreement": p.agreement,
            }
            for p in r.pages
        ],
        "findings": [finding_dict(f, r.transcript.text) for f in r.findings],
        "summary": {s.value: r.count(s) for s in Severity},
    }


def render(r: CheckResult) -> str:
    return json.dumps(result_dict(r), ensure_ascii=False, indent=2) + "\n"


def results_dict(results: Sequence[CheckResult]) -> dict[str, Any]:
    """Several transcripts' documents in one (``ocr-fix/checks/1``)."""
    return {
        "schema": MANY_SCHEMA,
        "tool": f"ocr-fix {__version__}",
        "results": [result_dict(r) for r in results],
        "summary": {s.value: sum(r.count(s) for r in results) for s in Severity},
    }


class JsonFormat(ReportFormat):
    """Every finding whatever ``--show`` says: this is the data, not a view of it."""

    name = "json"

    def render(self, results: Sequence[CheckResult], options: RenderOptions) -> str:
        doc = result_dict(results[0]) if len(results) == 1 else results_dict(results)
        return json.dumps(doc, ensure_ascii=False, indent=2) + "\n"
