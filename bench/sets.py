"""Injected-error sets for measuring and fitting ``check``'s verdicts, built at bench time.

Each set is one document: page scans, the correct transcript of those pages (the
unaltered *baseline*), the same transcript with transcriber errors injected by
:mod:`ocr_fix.inject`, and the catalogue of those errors (``errors.json`` format, scored
by ``../shared/tools/score_findings.py``). ``group`` names the collection a set comes
from; a model is fitted without a group and scored on it (leave-one-set-out).

Sources (nothing is copied into the repository: sets are written under the gitignored
``.bench/sets/`` and point at the scans where they lie):

- ``../shared/realdata`` (skipped when absent): every document's ``.gt.txt`` pages in
  page order (the four pages of EHRI-DR-19390519-US form one transcript), grouped as
  ``ehri-despatch`` (DR), ``ehri-testimony`` (ET), ``ehri-letters`` (BF), ``french``
  (tapuscorpus, lang ``fra``), ``german`` (lang ``deu``), ``unlv`` (Tesseract's test
  pages). Its transcripts are diplomatic and partial and carry real slips: errors go
  only into lines whose words the page's OCR mostly finds (so never into a line the
  page does not show), and ``--baseline`` scoring leaves out what ``check`` already
  says about the unaltered transcript.
- the bundled ``golden/psis-400-23`` pages with their committed scans (group ``psis``,
  with its lexicon), and the bundled transcript with its 33 real, catalogued errors.
- the same golden pages rendered by ``ocr-fix synth`` in other typefaces and
  degradations (groups ``synth-<font>``), five pages per font.

Usage: ``build_sets(repo_root, seed)``; ``python bench/sets.py [--seed N]`` lists them.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import zlib
from collections.abc import Collection, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from ocr_fix.inject import CLASSES, inject, vocabulary  # noqa: E402

__all__ = ["GROUPS", "InjectedSet", "build_sets", "eligible_lines", "page_words"]

#: One injected error per this many words of transcript (at least three a document).
WORDS_PER_ERROR = 50
#: A line may take an error when the OCR of its page finds this share of its words.
LINE_SEEN = 0.6
#: (font family, degradation, synth seed, golden pages) of the rendered sets.
SYNTH = (
    ("FreeMono", "light", 21, range(1, 6)),
    ("Liberation Mono", "medium", 22, range(6, 11)),
    ("DejaVu Sans Mono", "heavy", 23, range(11, 16)),
    ("TeX Gyre Cursor", "medium", 24, range(16, 21)),
    ("Courier Prime", "heavy", 25, range(3, 8)),
    # Two proportional faces: a collection's printed pages, and a check that the model
    # has not learnt the fixed pitch of a typewriter.
    ("Liberation Serif", "medium", 26, range(8, 13)),
    ("DejaVu Sans", "light", 27, range(13, 18)),
)
REAL = (  # folder, image suffix, transcript suffix, lang
    ("ehri_english_typewritten", ".jpg", ".gt.txt", "eng"),
    ("ehri_english_more", ".jpg", ".gt.txt", "eng"),
    ("tapuscorpus_french_typewritten", ".jpg", ".gt.txt", "fra"),
    ("ehri_german_typewritten", ".jpg", ".gt.txt", "deu"),
    ("tesseract_test", ".tif", ".txt", "eng"),
)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


GROUPS = (
    "ehri-despatch",
    "ehri-testimony",
    "ehri-letters",
    "french",
    "german",
    "unlv",
    "psis",
    *(f"synth-{_slug(f)}" for f, *_ in SYNTH),
)


@dataclass(frozen=True, slots=True)
class InjectedSet:
    """One document to check: ``transcript`` (with errors) against ``scans``.

    ``errors`` is the catalogue of ``transcript``'s errors; ``baseline_transcript`` the
    same document without them (score with ``--baseline`` on its report). ``injected``
    is False for the bundled transcript, whose errors are real ones.
    """

    name: str
    group: str
    transcript: Path
    scans: tuple[Path, ...]
    errors: Path
    baseline_transcript: Path
    lang: str = "eng"
    lexicon: Path | None = None
    words: int = 0
    injected: bool = True

    def to_json(self) -> dict[str, object]:
        d = asdict(self)
        return {
            k: ([str(p) for p in v] if k == "scans" else str(v) if isinstance(v, Path) else v)
            for k, v in d.items()
        }


@dataclass(frozen=True, slots=True)
class _Doc:
    name: str
    group: str
    lang: str
    pages: tuple[tuple[Path, Path], ...]  # (transcript page, scan)
    lexicon: Path | None = None


def _share(words: int, seed: int, per_words: int) -> dict[str, int]:
    """Errors per class for a document of ``words``: one per ``per_words`` words, spread
    evenly over the classes, the remainder to classes drawn by ``seed``; at most two
    swapped-line pairs."""
    import random

    total = max(3, round(words / per_words))
    base, extra = divmod(total, len(CLASSES))
    lucky = set(random.Random(seed).sample(CLASSES, extra))
    share = {c: base + (c in lucky) for c in CLASSES}
    share["line-order"] = min(share["line-order"], 2)
    return share


def _read_lines(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8-sig").replace("\r\n", "\n").replace("\r", "\n")
    lines = [line.rstrip() for line in text.split("\n")]
    while lines and not lines[-1]:
        lines.pop()
    return lines


def _real_docs(realdata: Path) -> list[_Doc]:
    docs: dict[str, list[tuple[Path, Path]]] = {}
    langs: dict[str, str] = {}
    for folder, image_suffix, gt_suffix, lang in REAL:
        for scan in sorted((realdata / folder).glob(f"*{image_suffix}")):
            gt = scan.with_name(scan.stem + gt_suffix)
            if not gt.is_file():
                continue
            m = re.match(r"(EHRI-.+?)_(\d\d)$", scan.stem)
            doc = m.group(1) if m else scan.stem
            docs.setdefault(doc, []).append((gt, scan))
            langs[doc] = lang
    out = []
    for doc, pages in sorted(docs.items()):
        pages.sort(key=lambda p: p[1].stem)
        lang = langs[doc]
        if lang == "fra":
            group = "french"
        elif lang == "deu":
            group = "german"
        elif doc.startswith("EHRI-DR"):
            group = "ehri-despatch"
        elif doc.startswith("EHRI-ET"):
            group = "ehri-testimony"
        elif doc.startswith("EHRI-"):
            group = "ehri-letters"
        else:
            group = "unlv"
        out.append(_Doc(doc, group, lang, tuple(pages)))
    return out


def _synth_docs(root: Path, work: Path) -> list[_Doc]:
    from ocr_fix.synth import RENDER_VERSION, Degrade, SynthSettings, find_font, synth_pages

    golden = root / "golden" / "psis-400-23"
    out = []
    for family, degrade, seed, numbers in SYNTH:
        try:
            find_font(family)
        except Exception:  # the font is not installed: `make system-deps` adds it
            print(f"[sets] {family} not installed; its synth set is left out", file=sys.stderr)
            continue
        gts = [golden / f"{n:02d}.gt.txt" for n in numbers]
        folder = work / "synth" / f"{_slug(family)}-{degrade}-{seed}-r{RENDER_VERSION}"
        scans = [folder / f"{n:02d}.png" for n in numbers]
        if not all(s.is_file() for s in scans):
            synth_pages(gts, folder, SynthSettings(seed=seed, degrade=Degrade(degrade), font=family))
        name = f"synth-{_slug(family)}-{degrade}"
        out.append(_Doc(name, f"synth-{_slug(family)}", "eng", tuple(zip(gts, scans, strict=True))))
    return out


def page_words(scans: Sequence[Path], lang: str, work: Path) -> list[set[str]]:
    """The casefolded words ``ocr-fix ocr`` reads on each scan (cached OCR)."""
    out_dir = work / "ocr" / lang / _slug(str(scans[0].parent))[-60:]
    want = [out_dir / f"{s.stem}.txt" for s in scans]
    if not all(w.is_file() for w in want):
        cmd = [
            sys.executable,
            "-m",
            "ocr_fix",
            "ocr",
            *map(str, scans),
            "--lang",
            lang,
            "-o",
            str(out_dir),
            "-q",
        ]
        subprocess.run(cmd, check=True, cwd=ROOT, env=_env())
    return [_words(w.read_text(encoding="utf-8")) for w in want]


def _words(text: str) -> set[str]:
    return {w for w in (re.sub(r"^\W+|\W+$", "", t).casefold() for t in text.split()) if len(w) >= 3}


def eligible_lines(lines: Sequence[str], pages: Sequence[int], seen: Sequence[set[str]]) -> set[int]:
    """1-based lines of which the OCR of their page finds at least ``LINE_SEEN`` of the
    words (of three letters or more; at least two such words)."""
    out = set()
    for n, (line, page) in enumerate(zip(lines, pages, strict=True), start=1):
        words = [w for w in _words(line)]
        if len(words) >= 2 and sum(w in seen[page - 1] for w in words) >= LINE_SEEN * len(words):
            out.add(n)
    return out


def _env() -> dict[str, str]:
    import os

    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.setdefault("OMP_THREAD_LIMIT", "1")
    return env


def _write_if_changed(path: Path, text: str) -> None:
    """Keep the file (and its mtime) when the content is the same: reports keyed on it stay."""
    if not path.is_file() or path.read_text(encoding="utf-8") != text:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def build_doc_set(doc: _Doc, seed: int, work: Path, per_words: int = WORDS_PER_ERROR) -> InjectedSet:
    """Inject errors into one document and write it under ``work/seed-<seed>/<name>/``."""
    lines: list[str] = []
    pages: list[int] = []
    for number, (gt, _scan) in enumerate(doc.pages, start=1):
        page_lines = _read_lines(gt)
        lines.extend(page_lines)
        pages.extend([number] * len(page_lines))
    text = "\n".join(lines) + "\n"
    scans = tuple(scan for _, scan in doc.pages)
    seen = page_words(scans, doc.lang, work)
    ok = eligible_lines(lines, pages, seen)
    words = len(text.split())
    seed_doc = zlib.crc32(f"{seed}:{doc.name}".encode())
    per_class = _share(words, seed_doc, per_words)
    result = inject(
        text,
        seed_doc,
        per_class=per_class,
        vocab=vocabulary(doc.lang),
        pages=pages,
        eligible=ok,
    )
    base = work / f"seed-{seed}" / _slug(doc.name)
    _write_if_changed(work / "baseline" / f"{_slug(doc.name)}.txt", text)
    _write_if_changed(base / "transcript.txt", result.text)
    _write_if_changed(
        base / "errors.json", json.dumps(result.catalogue(), indent=1, ensure_ascii=False) + "\n"
    )
    return InjectedSet(
        name=doc.name,
        group=doc.group,
        transcript=base / "transcript.txt",
        scans=scans,
        errors=base / "errors.json",
        baseline_transcript=work / "baseline" / f"{_slug(doc.name)}.txt",
        lang=doc.lang,
        lexicon=doc.lexicon,
        words=words,
    )


def _psis_real(root: Path) -> InjectedSet:
    scans = root / "scans" / "psis-400-23"
    transcript = scans / "transcript.md"
    return InjectedSet(
        name="psis-400-23",
        group="psis",
        transcript=transcript,
        scans=tuple(sorted(scans.glob("*.png"))),
        errors=root / "golden" / "psis-400-23" / "errors.json",
        baseline_transcript=root / "golden" / "psis-400-23" / "golden.md",
        lexicon=root / "lexicons" / "psis-400-23.txt",
        words=len(transcript.read_text(encoding="utf-8").split()),
        injected=False,
    )


def documents(root: Path = ROOT, realdata: Path | None = None, work: Path | None = None) -> list[_Doc]:
    """Every source document: real ones (when ``realdata`` exists), the golden pages, synth renderings."""
    realdata = realdata if realdata is not None else root.parent / "shared" / "realdata"
    work = work if work is not None else root / ".bench" / "sets"
    golden = root / "golden" / "psis-400-23"
    docs = _real_docs(realdata) if realdata.is_dir() else []
    docs.append(
        _Doc(
            "psis-400-23-golden",
            "psis",
            "eng",
            tuple(
                (golden / f"{n:02d}.gt.txt", root / "scans" / "psis-400-23" / f"{n:02d}.png")
                for n in range(1, 21)
            ),
            root / "lexicons" / "psis-400-23.txt",
        )
    )
    docs.extend(_synth_docs(root, work))
    return docs


def build_sets(
    root: Path = ROOT,
    seed: int = 1,
    *,
    groups: Collection[str] | None = None,
    realdata: Path | None = None,
    work: Path | None = None,
    with_real_errors: bool = True,
) -> list[InjectedSet]:
    """All injected sets for ``seed`` (the same seed gives the same files), plus the
    bundled transcript with its real errors when ``with_real_errors``. ``groups``
    keeps only those groups. Writes under ``work`` (default ``root/.bench/sets``) and
    a manifest ``seed-<seed>/sets.json``."""
    work = work if work is not None else root / ".bench" / "sets"
    out = []
    for doc in documents(root, realdata, work):
        if groups is None or doc.group in groups:
            out.append(build_doc_set(doc, seed, work))
    if with_real_errors and (groups is None or "psis" in groups):
        out.append(_psis_real(root))
    manifest = work / f"seed-{seed}" / "sets.json"
    manifest.parent.mkdir(parents=True, exist_ok=True)
    manifest.write_text(json.dumps([s.to_json() for s in out], indent=1) + "\n", encoding="utf-8")
    return out


def main(argv: list[str]) -> int:
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--groups", help="comma-separated groups (default: all)")
    a = ap.parse_args(argv)
    sets = build_sets(ROOT, a.seed, groups=a.groups.split(",") if a.groups else None)
    for s in sets:
        n = len(json.loads(s.errors.read_text(encoding="utf-8")))
        print(f"{s.group:16s} {s.name:28s} {s.lang} pages {len(s.scans):2d} words {s.words:5d} errors {n:3d}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
