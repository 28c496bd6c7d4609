"""``--format sarif``: SARIF 2.1.0 for GitHub code scanning, reviewdog and IDE viewers.

One run per call; one result per finding, its rule the finding's kind (``substitution``,
``omission``, ...), its level from the severity (``info`` is SARIF's ``note``), its
region the transcript span (1-based lines, columns counted in Unicode code points as
``columnKind`` says, ``endColumn`` exclusive), and the suggestion as a ``fixes[]``
replacement — the same edit ``ocr-fix fix`` would make. ``partialFingerprints`` carries
the finding's context fingerprint (:mod:`ocr_fix.suppress`), so code scanning tracks an
alert across edits elsewhere in the file and ``--baseline`` can read a SARIF file back.

Paths are relative to the current directory, under ``originalUriBaseIds.SRCROOT``.
For XML transcripts (ALTO, PAGE, hOCR, TEI) the region is where the text sits in the XML
file; a fix is offered only for markdown and plain text, whose checked text is the file
itself (in XML the replacement would need the file's escaping and structure).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ocr_fix import __version__
from ocr_fix.fix import suggested_edit
from ocr_fix.model import Finding, Kind, Severity, TranscriptSpan
from ocr_fix.pipeline import CheckResult
from ocr_fix.report import explain
from ocr_fix.report.formats import RenderOptions, ReportFormat, display_path, shown
from ocr_fix.report.text import message
from ocr_fix.suppress import FINGERPRINT_KEY, fingerprint

__all__ = ["RULES", "SarifFormat", "sarif_dict"]

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
SRCROOT = "SRCROOT"

#: One rule per finding kind: id, then the short description code scanning shows.
RULES: tuple[tuple[Kind, str], ...] = (
    (Kind.SUBSTITUTION, "The transcript and the scan disagree on a word."),
    (Kind.OMISSION, "Text on the scan is missing from the transcript."),
    (Kind.INSERTION, "The transcript has text the scan does not show."),
    (Kind.VARIANT, "One lexicon term is spelled several ways (no scans)."),
    (Kind.NONWORD, "A word near a lexicon term that is in no dictionary (no scans)."),
    (Kind.MISMATCH, "The scans are not of this transcript."),
    (Kind.NO_SCAN, "A stretch of the transcript has no scan page."),
    (Kind.UNTRANSCRIBED, "Scan text the transcript leaves out: a page, a letterhead, stamps, a signatory."),
    (Kind.PAGE_ORDER, "The scan pages come in another order than the transcript's."),
    (Kind.LINE_ORDER, "Two transcript lines come in the other order on the scan."),
)
_RULE_INDEX = {kind: i for i, (kind, _) in enumerate(RULES)}
_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
_PLAIN = ("markdown", "text")  # the checked text is the file itself


def _region(span: TranscriptSpan) -> dict[str, Any]:
    region: dict[str, Any] = {"startLine": span.line, "startColumn": span.column}
    if span.end_line is not None:
        region["endLine"] = span.end_line
    region["endColumn"] = span.end_column
    return region


def _artifact(uri: str) -> dict[str, Any]:
    return {"uri": uri, "uriBaseId": SRCROOT}


def _result(f: Finding, r: CheckResult, uri: str) -> dict[str, Any]:
    text = r.transcript.text
    plain = r.transcript.kind in _PLAIN
    # Whole-document findings (mismatch, page order) sit on line 1: code scanning needs a
    # line to show an alert on.
    region = _region(f.transcript) if f.transcript else {"startLine": 1}
    location: dict[str, Any] = {"artifactLocation": _artifact(uri), "region": region}
    out: dict[str, Any] = {
        "ruleId": f.kind.value,
        "ruleIndex": _RULE_INDEX[f.kind],
        "level": _LEVEL[f.severity],
        "message": {"text": message(f)},
        "locations": [{"physicalLocation": location}],
        "partialFingerprints": {FINGERPRINT_KEY: fingerprint(f, text)},
    }
    edit = suggested_edit(text, f) if plain else None
    if edit is not None:
        shown_text = f.transcript.text if f.transcript else ""
        what = (
            f"Insert {edit.replacement.strip()!r}"
            if edit.start == edit.end
            else f"Replace {shown_text!r} with {edit.replacement!r}"
            if edit.replacement
            else f"Delete {shown_text!r}"
        )
        out["fixes"] = [
            {
                "description": {"text": what},
                "artifactChanges": [
                    {
                        "artifactLocation": _artifact(uri),
                        "replacements": [
                            {
                                "deletedRegion": _region(r.transcript.span(edit.start, edit.end)),
                                "insertedContent": {"text": edit.replacement},
                            }
                        ],
                    }
                ],
            }
        ]
    props: dict[str, Any] = {"severity": f.severity.value, "suggestion": f.suggestion}
    if f.scan is not None:
        props["scan"] = {
            "page": f.scan.page,
            "line": f.scan.line,
            "text": f.scan.text,
            "confidence": f.scan.confidence,
            "image": f.scan.image,
            **({"bbox": f.scan.bbox.as_list()} if f.scan.bbox else {}),
        }
    if f.transcript is not None and f.transcript.element:
        props["element"] = f.transcript.element
    if f.features:
        props["score"] = f.score
        props["features"] = dict(f.features)
        props["evidence"] = explain.reasons(f)
    out["properties"] = props
    return out


def sarif_dict(results: Sequence[CheckResult], options: RenderOptions) -> dict[str, Any]:
    root = options.root or Path.cwd()
    sarif_results: list[dict[str, Any]] = []
    artifacts: list[dict[str, Any]] = []
    for r in results:
        uri = display_path(r.transcript.path, root)
        artifacts.append({"location": _artifact(uri)})
        sarif_results += [_result(f, r, uri) for f in shown(r.findings, options)]
    rules = [
        {
            "id": kind.value,
            "name": "".join(part.capitalize() for part in kind.value.split("-")),
            "shortDescription": {"text": text},
        }
        for kind, text in RULES
    ]
    return {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {"driver": {"name": "ocr-fix", "version": __version__, "rules": rules}},
                "originalUriBaseIds": {SRCROOT: {"uri": Path(root).resolve().as_uri().rstrip("/") + "/"}},
                "columnKind": "unicodeCodePoints",
                "artifacts": artifacts,
                "results": sarif_results,
            }
        ],
    }


class SarifFormat(ReportFormat):
    name = "sarif"

    def render(self, results: Sequence[CheckResult], options: RenderOptions) -> str:
        return json.dumps(sarif_dict(results, options), ensure_ascii=False, indent=2) + "\n"
