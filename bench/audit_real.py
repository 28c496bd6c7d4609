"""Audit of ``check`` on the unaltered human transcripts of ``../shared/realdata``.

Every real document (the EHRI pages of one document grouped as :mod:`sets` groups them)
is checked against its scans with its transcript exactly as the transcriber left it:
``ocr-fix check --format json`` with real, cached OCR and the set's language (``eng``
for the English EHRI sets and Tesseract's test pages, ``fra`` for tapuscorpus, ``deu``
for the German EHRI pages). For every ``error`` / ``warning`` finding a crop of the scan
around its bbox (the line, with a margin; the word boxed in red) is written as a PNG under
``.bench/audit/crops/`` (gitignored) and a row goes to ``.bench/audit/findings.tsv`` and
``findings.json``: set, document, transcript line:column, transcript text, scan reading,
suggestion, severity, kind, score, crop. Someone then looks at every crop and records
whether the transcript or the tool is wrong (``bench/real_findings_audit.md``).

Printed: per set (realdata folder) and overall, words and error+warning findings per
1,000 words. Words are whitespace-separated tokens of the transcript, as :mod:`sets`
counts them.

Usage: ``python bench/audit_real.py [--workers N]``, or ``python bench/run.py audit``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
for _p in (str(HERE), str(ROOT)):
    if _p not in sys.path:
        sys.path.insert(0, _p)

from bench_verdicts import run_check  # noqa: E402
from sets import InjectedSet, _read_lines, _real_docs, _slug  # noqa: E402

__all__ = ["AuditRow", "audit", "run"]

REALDATA = ROOT.parent / "shared" / "realdata"
WORK = ROOT / ".bench" / "audit"
#: Margin around the finding's box: this many box heights above and below, and this
#: many pixels (at least) left and right, so the crop shows the line around the word.
V_MARGIN = 1.6
H_MARGIN = 700
#: Crops wider than this are scaled down to it (a viewer shows them whole).
MAX_WIDTH = 1600


@dataclass(frozen=True, slots=True)
class AuditRow:
    """One error/warning finding on an unaltered real transcript, with its crop."""

    set: str
    document: str
    line: int
    column: int
    transcript: str
    scan: str
    suggestion: str
    severity: str
    kind: str
    score: float | None
    crop: str
    page_image: str


def _doc_set(doc: Any, work: Path) -> tuple[InjectedSet, list[str], list[str]]:
    """The document's transcript as :mod:`sets` writes its baseline (pages' lines in page
    order, one newline between pages), the folder (set) of each transcript line."""
    lines: list[str] = []
    folders: list[str] = []
    for gt, scan in doc.pages:
        page_lines = _read_lines(gt)
        lines.extend(page_lines)
        folders.extend([scan.parent.name] * len(page_lines))
    text = "\n".join(lines) + "\n"
    path = work / "transcripts" / f"{_slug(doc.name)}.txt"
    if not path.is_file() or path.read_text(encoding="utf-8") != text:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    s = InjectedSet(
        name=doc.name,
        group=doc.group,
        transcript=path,
        scans=tuple(scan for _, scan in doc.pages),
        errors=path,  # no catalogue: the audit scores nothing automatically
        baseline_transcript=path,
        lang=doc.lang,
        words=len(text.split()),
    )
    return s, lines, folders


def _crop(image: Path, bbox: Sequence[int], out: Path) -> None:
    from PIL import Image, ImageDraw

    with Image.open(image) as im:
        page = im.convert("RGB")
    x0, y0, x1, y1 = bbox
    h = max(20, y1 - y0)
    box = (
        max(0, x0 - H_MARGIN),
        max(0, int(y0 - V_MARGIN * h)),
        min(page.width, x1 + H_MARGIN),
        min(page.height, int(y1 + V_MARGIN * h)),
    )
    crop = page.crop(box)
    ImageDraw.Draw(crop).rectangle(
        (x0 - box[0] - 3, y0 - box[1] - 3, x1 - box[0] + 3, y1 - box[1] + 3), outline=(255, 0, 0), width=2
    )
    if crop.width > MAX_WIDTH:
        crop = crop.resize((MAX_WIDTH, round(crop.height * MAX_WIDTH / crop.width)))
    out.parent.mkdir(parents=True, exist_ok=True)
    crop.save(out)


def _rows(s: InjectedSet, report: Path, folders: list[str], work: Path) -> list[AuditRow]:
    data = json.loads(report.read_text(encoding="utf-8"))
    rows = []
    for n, f in enumerate(data["findings"]):
        if f["severity"] not in ("error", "warning"):
            continue
        t, sc = f["transcript"], f.get("scan") or {}
        line = int(t["line"])
        folder = folders[min(line, len(folders)) - 1]
        crop = ""
        if sc.get("bbox") and sc.get("image"):
            out = work / "crops" / f"{_slug(s.name)}-{n:03d}-l{line}.png"
            _crop(Path(sc["image"]), sc["bbox"], out)
            crop = str(out.relative_to(ROOT))
        rows.append(
            AuditRow(
                set=folder,
                document=s.name,
                line=line,
                column=int(t["column"]),
                transcript=t.get("text", ""),
                scan=sc.get("text", ""),
                suggestion=f.get("suggestion") or "",
                severity=f["severity"],
                kind=f["kind"],
                score=f.get("score"),
                crop=crop,
                page_image=Path(sc.get("image", "")).name,
            )
        )
    return rows


def audit(realdata: Path = REALDATA, work: Path = WORK, workers: int = 1) -> dict[str, Any]:
    """Check every real document, write crops and rows, return words and findings per set."""
    docs = _real_docs(realdata)
    prepared = [_doc_set(d, work) for d in docs]
    words: Counter[str] = Counter()
    for _s, lines, folders in prepared:
        for line, folder in zip(lines, folders, strict=True):
            words[folder] += len(line.split())

    def one(item: tuple[InjectedSet, list[str], list[str]]) -> list[AuditRow]:
        s, _lines, folders = item
        return _rows(s, run_check(s, s.transcript, work=work / "checks"), folders, work)

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        rows = [r for rs in pool.map(one, prepared) for r in rs]
    work.mkdir(parents=True, exist_ok=True)
    (work / "findings.json").write_text(
        json.dumps([asdict(r) for r in rows], indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
    )

    def cell(text: str) -> str:
        return text.replace("\t", " ").replace("\n", " ⏎ ")

    head = "set\tdocument\tline:col\ttranscript\tscan\tsuggestion\tseverity\tkind\tscore\tcrop\n"
    (work / "findings.tsv").write_text(
        head
        + "".join(
            f"{r.set}\t{r.document}\t{r.line}:{r.column}\t{cell(r.transcript)}\t{cell(r.scan)}\t"
            f"{cell(r.suggestion)}\t"
            f"{r.severity}\t{r.kind}\t{'' if r.score is None else f'{r.score:.3f}'}\t{r.crop}\n"
            for r in rows
        ),
        encoding="utf-8",
    )
    found = Counter(r.set for r in rows)
    per_set = {
        name: {
            "words": words[name],
            "findings": found[name],
            "per_1000_words": round(1000 * found[name] / words[name], 2) if words[name] else 0.0,
        }
        for name in sorted(words)
    }
    total_words, total = sum(words.values()), len(rows)
    per_set["overall"] = {
        "words": total_words,
        "findings": total,
        "per_1000_words": round(1000 * total / total_words, 2) if total_words else 0.0,
    }
    return per_set


def print_table(per_set: dict[str, Any]) -> None:
    print(f"{'set':34s} {'words':>7s} {'err+warn':>8s} {'/1000 w':>8s}")
    for name, v in per_set.items():
        print(f"{name:34s} {v['words']:7d} {v['findings']:8d} {v['per_1000_words']:8.2f}")


def run(argv: Sequence[str] = ()) -> dict[str, Any]:
    """The ``audit`` section of ``bench/run.py``."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--workers", type=int, default=1, help="checks run at the same time")
    a = ap.parse_args(list(argv))
    if not REALDATA.is_dir():
        print(f"[audit] {REALDATA} absent: skipped")
        return {}
    per_set = audit(workers=a.workers)
    print_table(per_set)
    print(f"rows: {WORK / 'findings.tsv'}; crops: {WORK / 'crops'}")
    return per_set


if __name__ == "__main__":
    run(sys.argv[1:])
