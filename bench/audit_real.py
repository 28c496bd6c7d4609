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

The verdicts live in ``bench/real_findings_audit.md`` (one table row per finding: verdict
``slip``, ``false alarm`` or ``unclear`` and a note). ``--write-md`` rewrites that file
from this run: a finding already judged (same document, line:column and transcript
text) keeps its verdict, a new one gets ``?`` until someone looks at its crop; the
totals (findings, slips and false alarms per 1,000 words, per set and overall) are
computed from the verdicts. Without ``--write-md`` the totals are printed only.

Usage: ``python bench/audit_real.py [--workers N] [--write-md]``, or
``python bench/run.py audit``.
"""

from __future__ import annotations

import argparse
import json
import re
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

__all__ = [
    "VERDICTS",
    "AuditRow",
    "audit",
    "cell",
    "earlier",
    "read_verdicts",
    "render_md",
    "run",
    "table",
    "totals",
]

REALDATA = ROOT.parent / "shared" / "realdata"
WORK = ROOT / ".bench" / "audit"
MD = HERE / "real_findings_audit.md"
#: What a look at the crop can say about a finding.
VERDICTS = ("slip", "false alarm", "unclear")
#: Margin around the finding's box: this many box heights above and below. The crop
#: spans the page's whole width: an insertion's box is a neighbouring word, and the
#: transcript's words may sit at the other end of the line (a short last line of a
#: paragraph at the left margin).
V_MARGIN = 2.2
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
        0,
        max(0, int(y0 - V_MARGIN * h)),
        page.width,
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
        t, sc = f.get("transcript") or {}, f.get("scan") or {}
        line = int(t.get("line") or 0)  # 0: a finding with no transcript place
        folder = folders[min(line, len(folders)) - 1] if line else folders[0]  # a page-level finding
        crop = ""
        if sc.get("bbox") and sc.get("image"):
            out = work / "crops" / f"{_slug(s.name)}-{n:03d}-l{line}.png"
            _crop(Path(sc["image"]), sc["bbox"], out)
            crop = str(out.relative_to(ROOT)) if out.is_relative_to(ROOT) else str(out)
        rows.append(
            AuditRow(
                set=folder,
                document=s.name,
                line=line,
                column=int(t.get("column") or 0),
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


def audit(
    realdata: Path = REALDATA, work: Path = WORK, workers: int = 1
) -> tuple[list[AuditRow], dict[str, int]]:
    """Check every real document, write crops and rows; the rows and the words per set."""
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
    return rows, dict(words)


# --- verdicts ----------------------------------------------------------------------------


def _key(r: AuditRow) -> tuple[str, str, str]:
    return (r.document, f"{r.line}:{r.column}", cell(r.transcript))


def cell(text: str) -> str:
    """``text`` as a table cell of the audit file (``|`` escaped, line breaks as ``⏎``)."""
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ⏎ ").replace("\t", " ")


def table(md: Path) -> list[list[str]]:
    """The finding rows of ``md``'s table, their 12 cells each (code cells unquoted)."""
    if not md.is_file():
        return []
    rows = []
    for line in md.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]]
        if len(cells) == 12 and cells[0].isdigit():
            rows.append([c[1:-1] if len(c) > 1 and c[0] == c[-1] == "`" else c for c in cells])
    return rows


def read_verdicts(md: Path) -> dict[tuple[str, str, str], tuple[str, str]]:
    """(document, line:col, transcript cell) -> (verdict, note) from the table of ``md``."""
    return {(c[2], c[3], c[4]): (c[10], c[11]) for c in table(md)}


def totals(
    rows: Sequence[AuditRow], words: dict[str, int], verdicts: dict[tuple[str, str, str], tuple[str, str]]
) -> dict[str, dict[str, Any]]:
    """Per set and overall: words, findings, slips, false alarms, unclear, unjudged, and
    each count per 1,000 words."""

    def line(ws: int, rs: Sequence[AuditRow]) -> dict[str, Any]:
        said = Counter(verdicts.get(_key(r), ("?", ""))[0] for r in rs)
        counts = {
            "findings": len(rs),
            "slips": said["slip"],
            "false_alarms": said["false alarm"],
            "unclear": said["unclear"],
            "unjudged": len(rs) - sum(said[v] for v in VERDICTS),
        }
        per = {f"{k}_per_1000": round(1000 * v / ws, 2) if ws else 0.0 for k, v in counts.items()}
        return {"words": ws, **counts, **per}

    out = {name: line(words[name], [r for r in rows if r.set == name]) for name in sorted(words)}
    out["overall"] = line(sum(words.values()), rows)
    return out


_HEADER = (
    "| # | set | document | line:col | transcript | scan | suggestion | severity | kind | score "
    "| verdict | note |"
)


def earlier(old: Sequence[Sequence[str]], rows: Sequence[AuditRow]) -> list[list[str]]:
    """The judged rows of an earlier file (:func:`table`) that ``rows`` no longer hold:
    a verdict by eye is kept when a later version stops raising its finding (the
    calibration takes the verdicts as labels, and a finding may come back)."""
    now = {_key(r) for r in rows}
    seen: set[tuple[str, str, str]] = set()
    out = []
    for c in old:
        key = (c[2], c[3], c[4])
        if key not in now and key not in seen and c[10] in VERDICTS:
            seen.add(key)
            out.append(list(c))
    return out


def render_md(
    rows: Sequence[AuditRow],
    words: dict[str, int],
    verdicts: dict[tuple[str, str, str], tuple[str, str]],
    head: str,
    kept: Sequence[Sequence[str]] = (),
) -> str:
    """The audit file: ``head``, one table row per finding with its verdict, the totals,
    and the ``kept`` rows (:func:`earlier`) of findings this version does not raise."""
    out = [head.rstrip(), "", "## Findings", "", _HEADER, "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for n, r in enumerate(rows, start=1):
        verdict, note = verdicts.get(_key(r), ("?", ""))
        score = "" if r.score is None else f"{r.score:.2f}"
        out.append(
            f"| {n} | {r.set} | {r.document} | {r.line}:{r.column} | `{cell(r.transcript)}` | "
            f"`{cell(r.scan)}` | `{cell(r.suggestion)}` | {r.severity} | {r.kind} | {score} | "
            f"{verdict} | {note} |"
        )
    out += ["", "## Totals (error + warning findings)", ""]
    out.append("| set | words | findings | /1000 w | slips | /1000 w | false alarms | /1000 w | unclear |")
    out.append("|---|---|---|---|---|---|---|---|---|")
    for name, t in totals(rows, words, verdicts).items():
        out.append(
            f"| {name} | {t['words']} | {t['findings']} | {t['findings_per_1000']:.2f} | {t['slips']} | "
            f"{t['slips_per_1000']:.2f} | {t['false_alarms']} | {t['false_alarms_per_1000']:.2f} | "
            f"{t['unclear']} |"
        )
    if kept:
        out += [
            "",
            "## Verdicts on findings this version does not raise",
            "",
            "Judged by eye on an earlier version's run; kept as labels for `make calibrate` and"
            " for the day a finding comes back. Not in the totals.",
            "",
            _HEADER,
            "|---|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        for n, c in enumerate(kept, start=len(rows) + 1):
            code = [f"`{x}`" for x in c[4:7]]
            out.append("| " + " | ".join([str(n), *c[1:4], *code, *c[7:12]]) + " |")
    return "\n".join(out) + "\n"


def print_table(per_set: dict[str, dict[str, Any]]) -> None:
    print(
        f"{'set':32s} {'words':>6s} {'found':>5s} {'/1000':>6s} {'slips':>5s} {'/1000':>6s} "
        f"{'false':>5s} {'/1000':>6s} {'uncl':>4s} {'?':>3s}"
    )
    for name, v in per_set.items():
        print(
            f"{name:32s} {v['words']:6d} {v['findings']:5d} {v['findings_per_1000']:6.2f} {v['slips']:5d} "
            f"{v['slips_per_1000']:6.2f} {v['false_alarms']:5d} {v['false_alarms_per_1000']:6.2f} "
            f"{v['unclear']:4d} {v['unjudged']:3d}"
        )


def run(argv: Sequence[str] = ()) -> dict[str, Any]:
    """The ``audit`` section of ``bench/run.py``."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--workers", type=int, default=1, help="checks run at the same time")
    ap.add_argument("--write-md", action="store_true", help=f"rewrite {MD.name} from this run")
    a = ap.parse_args(list(argv))
    if not REALDATA.is_dir():
        print(f"[audit] {REALDATA} absent: skipped")
        return {}
    rows, words = audit(workers=a.workers)
    verdicts = read_verdicts(MD)
    per_set = totals(rows, words, verdicts)
    print_table(per_set)
    print(f"rows: {WORK / 'findings.tsv'}; crops: {WORK / 'crops'}")
    if a.write_md:
        text = MD.read_text(encoding="utf-8") if MD.is_file() else "# Audit of check on realdata\n"
        head = text.split("\n## Findings")[0]
        MD.write_text(render_md(rows, words, verdicts, head, earlier(table(MD), rows)), encoding="utf-8")
        print(f"wrote {MD}")
    return per_set


if __name__ == "__main__":
    run(sys.argv[1:])
