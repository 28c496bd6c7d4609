"""How much of the transcript's damage does ``check`` + ``fix`` repair, and what else does it touch?

For the bundled PSIS 400-23 document: ``check`` the transcript against the page scans
(real Tesseract through the project's OCR cache, with the bundled lexicon), then
``fix`` in memory at ``--accept error`` and ``--accept warning``. Reported per level:

* Levenshtein distance of the transcript to ``golden.md`` before and after, and the
  ratio after/before (target at ``error``: <= 0.20);
* lines changed by the fix vs lines named by the accepted findings (target: no changed
  line outside the named ones), and how many changed lines now equal golden.

Run: ``.venv/bin/python bench/bench_fix.py``.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from rapidfuzz.distance import Levenshtein

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ocr_fix.fix import Source, changed_lines, findings_from_dict, plan, split_lines  # noqa: E402
from ocr_fix.model import Severity  # noqa: E402
from ocr_fix.pipeline import check  # noqa: E402
from ocr_fix.report.check_json import result_dict  # noqa: E402

DOC = "psis-400-23"


def run() -> dict:
    transcript = ROOT / "scans" / DOC / "transcript.md"
    scans = ROOT / "scans" / DOC
    golden = (ROOT / "golden" / DOC / "golden.md").read_text(encoding="utf-8")
    if not any(scans.glob("*.png")):
        print(f"skipped: no page scans in {scans}")
        return {"skipped": "no scans"}
    t0 = time.perf_counter()
    result = check(transcript, [scans], [ROOT / "lexicons" / f"{DOC}.txt"])
    check_s = time.perf_counter() - t0
    found = findings_from_dict(result_dict(result))
    raw = transcript.read_bytes()
    source = Source(transcript, raw, result.transcript.text, raw.startswith(b"\xef\xbb\xbf"))
    before = Levenshtein.distance(source.text, golden)
    out: dict = {
        "check_seconds": round(check_s, 1),
        "findings": len(result.findings),
        "distance_before": before,
    }
    gold_lines = split_lines(golden)
    for level in (Severity.ERROR, Severity.WARNING):
        fixed = plan(source, found.candidates, level)
        after = Levenshtein.distance(fixed.text, golden)
        changed = changed_lines(source.text, fixed.text)
        named = {n for e in fixed.applied for n in range(e.candidate.line, e.candidate.end_line + 1)}
        new_lines = split_lines(fixed.text)
        now_golden = sum(
            1
            for n in changed
            if n <= len(new_lines) and n <= len(gold_lines) and new_lines[n - 1] == gold_lines[n - 1]
        )
        row = {
            "applied": len(fixed.applied),
            "skipped": len(fixed.skipped),
            "distance_after": after,
            "ratio": round(after / before, 3) if before else 0.0,
            "lines_changed": len(changed),
            "lines_named": len(named),
            "changed_not_named": sorted(changed - named),
            "changed_lines_now_golden": now_golden,
        }
        out[f"accept_{level.value}"] = row
        print(
            f"--accept {level.value:<7} applied {row['applied']:>3}  distance {before} -> {after} "
            f"(ratio {row['ratio']:.3f}, target <= 0.20)  lines changed {row['lines_changed']} "
            f"/ named {row['lines_named']}, changed-not-named {row['changed_not_named']}, "
            f"now equal to golden {now_golden}"
        )
    return out


if __name__ == "__main__":
    run()
