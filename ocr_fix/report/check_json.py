"""``--format json``: the stable ``ocr-fix/check/1`` document for scripts.

Built from dicts and ``json.dumps``; keys and their meaning are part of the interface
(README, "JSON output"). New keys may be added; none is renamed or removed within /1.
A call with several transcripts writes one ``ocr-fix/checks/1`` document whose
``results`` are their ``ocr-fix/check/1`` documents, in the order given.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from ocr_fix import __version__
from ocr_fix.errors import BadInput
from ocr_fix.model import BBox, Finding, Kind, ScanSpan, Severity
from ocr_fix.pipeline import CheckResult, PageStat
from ocr_fix.report import explain
from ocr_fix.report.formats import RenderOptions, ReportFormat
from ocr_fix.suppress import fingerprint
from ocr_fix.transcript import Transcript

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
                "rotation": p.rotation,
                "skew": p.skew,
                "redactions": [b.as_list() for b in p.redactions],
                "variant": p.variant,
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


def _unrendered(f: Finding) -> Finding:
    """``f`` with the reasons :func:`explain.message` appended to its message taken off
    again, so a loaded finding renders as the one that was written."""
    why = explain.reasons(f)
    tail = f" ({'; '.join(why)})"
    if why and f.message.endswith(tail):
        return replace(f, message=f.message[: -len(tail)])
    return f


def load_result(doc: Any, transcript: Transcript) -> CheckResult:
    """The :class:`CheckResult` an ``ocr-fix/check/1`` document describes, for
    ``transcript`` as it was read again (``batch`` renders its reports from the
    ``findings.json`` files). Raises :class:`BadInput` when the document does not fit."""
    where = transcript.path
    if not (isinstance(doc, dict) and str(doc.get("schema", "")).startswith("ocr-fix/check/")):
        raise BadInput("not an ocr-fix check report", where)
    if doc.get("transcript_sha256") not in (None, transcript.sha256):
        raise BadInput("transcript changed since its findings were written; run again with --force", where)
    findings: list[Finding] = []
    try:
        for item in doc.get("findings") or ():
            t, s = item.get("transcript"), item.get("scan")
            findings.append(
                Finding(
                    severity=Severity(item["severity"]),
                    kind=Kind(item["kind"]),
                    transcript=None if t is None else transcript.span(int(t["offset"]), int(t["end_offset"])),
                    scan=None
                    if s is None
                    else ScanSpan(
                        int(s["page"]),
                        int(s["line"]),
                        str(s["text"]),
                        float(s["confidence"]),
                        BBox(*s["bbox"]) if s.get("bbox") else None,
                        str(s.get("image") or ""),
                    ),
                    suggestion=str(item.get("suggestion", "")),
                    message=str(item.get("message", "")),
                    features=tuple((str(k), float(v)) for k, v in (item.get("features") or {}).items()),
                    score=None if item.get("score") is None else float(item["score"]),
                )
            )
            findings[-1] = _unrendered(findings[-1])
        pages = tuple(
            PageStat(
                int(p["page"]),
                str(p["image"]),
                p.get("cer"),
                float(p.get("mean_confidence", 0.0)),
                int(p.get("words", 0)),
                float(p.get("agreement", 0.0)),
                int(p.get("rotation", 0)),
                float(p.get("skew", 0.0)),
                tuple(BBox(*(int(v) for v in b)) for b in p.get("redactions") or ()),
                str(p.get("variant", "first")),
            )
            for p in doc.get("pages") or ()
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise BadInput(f"findings do not fit the transcript ({type(exc).__name__}: {exc})", where) from None
    agreement = doc.get("agreement")
    return CheckResult(
        transcript,
        tuple(str(x) for x in doc.get("scans") or ()),
        pages,
        tuple(findings),
        None if agreement is None else float(agreement),
        tuple(int(x) for x in doc.get("page_order") or ()),
    )
