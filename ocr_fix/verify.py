"""A second, independent reading of the lines where the transcript and the scan disagree.

Tesseract's word confidence is poorly calibrated: it reads a degraded ``be`` as ``he`` at
96. What separates OCR noise from a real transcript error is *agreement*: a transcription
error is on the page and every careful reading sees it, while most OCR noise comes from
one particular view of the pixels. So the lines of the warning and error findings are
read again, cropped, at another scale and without the first pass's smoothing, and

- when the second reading of the disputed words agrees with the **transcript**, the
  finding is downgraded to ``info`` (the first OCR reading was noise);
- when it agrees with the first OCR reading, the finding keeps its severity and says so;
- when it agrees with neither, nothing changes.

A finding whose scan reading had too little confidence to count is raised to what a
confident reading would have meant when the second reading agrees with the first (two
independent readings agreeing are evidence Tesseract's score does not capture).
Otherwise it only lowers severities, and leaves alone errors that rest on the lexicon (a term
or an identifier pattern the scan matches): those need no second opinion, and skipping
them keeps the extra Tesseract runs few. Each line is read on its own, in Tesseract's
single-line mode; the disputed lines of a whole document go to one or a few Tesseract
processes (loading Tesseract costs more than reading a line), and the readings are
cached per page like page OCR.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

from rapidfuzz.distance import Levenshtein

from ocr_fix.evidence import with_core
from ocr_fix.lexicon import Lexicon, bare
from ocr_fix.model import BBox, Finding, Kind, Page, Severity, Word
from ocr_fix.normalize.tokens import loose_key
from ocr_fix.normalize.typography import fold_ocr_text
from ocr_fix.ocr.reread import Glyph, LineReader, ReadWord

MIN_ALTERNATIVE = 1.0  # an LSTM alternative weighed at least this much (0..100) counts


def verify(
    findings: Sequence[Finding],
    pages: Sequence[Page],
    reader: LineReader,
    lexicon: Lexicon | None = None,
    wanted: Callable[[Finding], bool] | None = None,
) -> list[Finding]:
    """``findings`` with the features of a second reading of their lines added (see
    :func:`second_features`) for those ``wanted`` (by default: substitutions and
    omissions that are warnings or errors, or that wait on a second reading)."""
    lexicon = lexicon or Lexicon()
    legacy = wanted is None
    wanted = wanted or _legacy_wanted
    by_number = {p.number: p for p in pages}
    todo: dict[int, list[int]] = {}
    for i, f in enumerate(findings):
        if (
            f.kind in (Kind.SUBSTITUTION, Kind.OMISSION)
            and f.transcript is not None
            and f.scan is not None
            and f.scan.bbox is not None
            and f.scan.page in by_number
            and wanted(f)
        ):
            todo.setdefault(f.scan.page, []).append(i)
    plan: list[tuple[list[int], dict[int, list[Word]], list[int], list[BBox]]] = []
    for number, idxs in sorted(todo.items()):
        page = by_number[number]
        lines: dict[int, list[Word]] = {w.line: [] for w in page.words}
        for w in page.words:
            lines[w.line].append(w)
        wanted_lines = sorted({findings[i].scan.line for i in idxs if findings[i].scan.line in lines})  # type: ignore[union-attr]
        plan.append((idxs, lines, wanted_lines, [_union([w.box for w in lines[n]]) for n in wanted_lines]))
    out = list(findings)
    if not plan:
        return out
    read = reader.read_lines(
        [(by_number[number], boxes) for number, (_, _, _, boxes) in zip(sorted(todo), plan, strict=True)]
    )
    for (idxs, lines, wanted_lines, _), second in zip(plan, read, strict=True):
        readings = dict(zip(wanted_lines, second, strict=True))
        for i in idxs:
            f = findings[i]
            if f.scan is None or f.scan.bbox is None or f.scan.line not in readings:
                continue
            words = _counterpart(lines[f.scan.line], f.scan.bbox, readings[f.scan.line])
            if words is not None:
                g = f.with_features(**second_features(f, words, lexicon))
                out[i] = (
                    _legacy_decide(g, words, lexicon) if legacy else _lexicon_suggestion(g, words, lexicon)
                )
    return out


def _legacy_wanted(f: Finding) -> bool:
    return (f.severity.rank >= Severity.WARNING.rank or f.feature("rule_pending") > 0) and not f.feature(
        "rule_backed"
    )


def _fold(text: str) -> str:
    return loose_key(text)


def second_features(f: Finding, words: Sequence[ReadWord], lexicon: Lexicon) -> dict[str, float]:
    """What a second reading ``words`` of the finding's scan words says: whether it
    agrees with the first reading or with the transcript once case, punctuation and
    spacing are folded the same way on both sides (exactly, for a finding that *is* a
    case or punctuation difference), or with neither; whether it reads a lexicon term
    the transcript lacks; whether Tesseract weighed the transcript's characters for the
    glyphs that differ. A second reading that is one letter off the first and not the
    transcript's reading (``tbe`` for ``the``) is the same reading of the same pixels."""
    assert f.scan is not None and f.transcript is not None
    seen = " ".join(fold_ocr_text(w[0]) for w in words)
    first = f.scan.text
    if f.kind is Kind.OMISSION:
        transcript_view = ""
    elif f.suggestion and f.suggestion in first:
        transcript_view = first.replace(f.suggestion, f.transcript.text, 1)
    else:
        transcript_view = f.transcript.text
    surface = f.feature("case_only") > 0 or f.feature("punct_only") > 0
    fold = (lambda x: x) if surface else _fold
    agrees_t = bool(transcript_view) and fold(seen) == fold(transcript_view)
    agrees_o = not agrees_t and (
        fold(seen) == fold(first)
        or bool(f.suggestion and fold(seen) == fold(f.suggestion))
        or _ambiguous(words, first)
        or (
            not surface
            and Levenshtein.distance(_fold(seen), _fold(first)) <= 1
            and Levenshtein.distance(_fold(seen), _fold(transcript_view)) > 1
        )
    )
    lexical = (
        len(words) == 1
        and lexicon.contains(seen)
        and not lexicon.contains(f.transcript.text)
        and not any(c.isdigit() for c in seen)
    )
    return {
        "second_read": 1.0,
        "second_agrees_ocr": float(agrees_o),
        "second_agrees_transcript": float(agrees_t),
        "second_contradicts_both": float(not agrees_o and not agrees_t),
        "second_is_lexicon": float(lexical),
        "glyph_doubt": float(bool(transcript_view) and not agrees_t and _ambiguous(words, transcript_view)),
    }


def _lexicon_suggestion(f: Finding, words: Sequence[ReadWord], lexicon: Lexicon) -> Finding:
    """A second reading that is a lexicon term the transcript lacks suggests that term."""
    if not f.feature("second_is_lexicon") or f.transcript is None:
        return f
    seen = " ".join(fold_ocr_text(w[0]) for w in words)
    term = lexicon.canonical(seen) or bare(seen)
    return replace(f, suggestion=with_core(f.transcript.text, term))


def _legacy_decide(f: Finding, words: Sequence[ReadWord], lexicon: Lexicon) -> Finding:
    """The hand-made verdict of a second reading, kept until the fitted model replaces it."""
    pending = f.feature("rule_pending")
    if pending:
        raised = Severity.ERROR if pending >= Severity.ERROR.rank else Severity.WARNING
        if f.feature("second_agrees_ocr"):
            return replace(f.with_features(rule_pending=0), severity=raised)
        if f.feature("second_is_lexicon"):
            seen = " ".join(fold_ocr_text(w[0]) for w in words)
            term = lexicon.canonical(seen) or bare(seen)
            assert f.transcript is not None
            return replace(
                f.with_features(rule_pending=0),
                severity=raised,
                suggestion=with_core(f.transcript.text, term),
            )
        return f.with_features(rule_pending=0)
    if f.feature("second_agrees_transcript"):
        return replace(f, severity=Severity.INFO)
    if f.severity is Severity.WARNING and (f.feature("glyph_doubt") or f.feature("second_contradicts_both")):
        return replace(f, severity=Severity.INFO)
    return f


def _union(boxes: Sequence[BBox]) -> BBox:
    box = boxes[0]
    for b in boxes[1:]:
        box = box.union(b)
    return box


def _counterpart(line: Sequence[Word], target: BBox, second: Sequence[ReadWord]) -> list[ReadWord] | None:
    """The words of the second reading where the first reading had the words in
    ``target``: the two readings of the line aligned on their word keys."""
    first = [fold_ocr_text(w.text) for w in line]
    inside = [
        i
        for i, w in enumerate(line)
        if w.box.x0 >= target.x0 - 2
        and w.box.x1 <= target.x1 + 2
        and w.box.y0 >= target.y0 - 2
        and w.box.y1 <= target.y1 + 2
    ]
    if not inside:
        return None
    lo, hi = inside[0], inside[-1] + 1
    mapped: list[int] = []
    keys = [loose_key(fold_ocr_text(w[0])) for w in second]
    for op in Levenshtein.opcodes([loose_key(t) for t in first], keys):
        if op.src_end <= lo or op.src_start >= hi:
            continue
        if op.tag == "equal":
            a, b = max(op.src_start, lo), min(op.src_end, hi)
            mapped.extend(range(op.dest_start + a - op.src_start, op.dest_start + b - op.src_start))
        else:
            mapped.extend(range(op.dest_start, op.dest_end))
    return [second[j] for j in sorted(set(mapped))]


def _ambiguous(words: Sequence[ReadWord], wanted: str) -> bool:
    """True when every character where the second reading differs from ``wanted`` was
    a glyph for which Tesseract itself weighed ``wanted``'s character."""
    glyphs: list[Glyph] = []
    for n, (_, gs) in enumerate(words):
        if n:
            glyphs.append((" ", {}))
        glyphs.extend((fold_ocr_text(c), alts) for c, alts in gs)
    seen = "".join(c for c, _ in glyphs)
    if len(seen) != len(glyphs):  # a fold changed a glyph's length: positions unreliable
        return False
    ops = Levenshtein.editops(seen, wanted)
    return bool(ops) and all(
        op.tag == "replace" and glyphs[op.src_pos][1].get(wanted[op.dest_pos], 0.0) >= MIN_ALTERNATIVE
        for op in ops
    )
