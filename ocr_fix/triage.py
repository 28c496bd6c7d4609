"""Turn an alignment into findings, each with a severity the evidence supports.

The question for every disagreement is *which side is wrong?* The evidence is general:
how confident Tesseract was, whether each reading is a lexicon term, an identifier
matching a lexicon pattern, or an English word, and how far apart the readings are.

- **error**: the transcript is very likely wrong — a confident scan reading that the
  lexicon or the dictionary supports while the transcript's reading is not supported.
- **warning**: a real disagreement where both readings are plausible (``Tojo``/``Togo``,
  ``modern``/``modem``, a digit in an identifier); both are shown.
- **info**: most likely OCR noise — low confidence, case or punctuation only on
  dictionary words, scan-only garbage, page furniture.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

from rapidfuzz.distance import Levenshtein

from ocr_fix.align import Alignment, OcrToken, PageAlignment, Pair
from ocr_fix.evidence import (
    MIN_DICTIONARY_COVERAGE,
    Evidence,
    dictionary_coverage,
    garbled,
    has_digit,
    homoglyphs_only,
    is_number,
    restores_balance,
    with_core,
)
from ocr_fix.features import (
    closed_word_mark,
    edge_feature,
    insertion_features,
    omission_features,
    repeated_confusions,
    stop_fits,
    substitution_features,
)
from ocr_fix.lexicon import Dictionary, Lexicon, bare
from ocr_fix.model import BBox, Finding, Kind, ScanSpan, Severity, TranscriptSpan
from ocr_fix.normalize.markdown import Folded
from ocr_fix.normalize.tokens import Token, loose_key, token_span
from ocr_fix.transcript import Transcript
from ocr_fix.typewriter import substitute_of

E, W, I = Severity.ERROR, Severity.WARNING, Severity.INFO  # noqa: E741 (the severity letters of the README)


@dataclass(frozen=True, slots=True)
class TriageSettings:
    """Confidence thresholds (Tesseract word confidence, 0..100)."""

    floor_conf: float = 30.0  # below: the scan reading is no evidence at all
    low_conf: float = 60.0  # below: only a lexicon term or pattern in the scan counts
    high_conf: float = 85.0  # at or above: the scan reading is trusted
    min_uncovered_tokens: int = 12  # smaller transcript stretches without a scan are info
    context_margin: float = 3.0  # log10 bigram evidence that overrules a real-word OCR reading
    rarity_margin: float = 2.7  # log10 word-frequency ratio that marks a real-word OCR reading as noise


def _trim_common(t: str, o: str) -> tuple[int, int]:
    """How many leading and trailing characters ``t`` and ``o`` share that the finding
    need not name: punctuation around words (``July,`` vs ``July),`` names ``July``),
    and any shared characters of identifiers (``4E-197715`` vs ``4H-197715`` names
    ``E``), whose parts are not words — unless that names none of ``t`` (``1945`` vs
    ``1945)``, ``#1214`` vs ``#1214,``: a mark the scan adds to a number), which names
    the number as a word's (``1945``, ``1214``): an empty span overlaps nothing, and in
    the calibration sets 6 of the 11 punctuation slips with no candidate were such marks."""
    lead, trail = _trimmed(t, o, has_digit(t) or has_digit(o))
    return (lead, trail) if lead + trail < len(t) or not t else _trimmed(t, o, False)


def _trimmed(t: str, o: str, whole: bool) -> tuple[int, int]:
    lead = 0
    while lead < min(len(t), len(o)) and t[lead] == o[lead] and (whole or not t[lead].isalnum()):
        lead += 1
    trail = 0
    while (
        trail < min(len(t), len(o)) - lead
        and t[-1 - trail] == o[-1 - trail]
        and (whole or not t[-1 - trail].isalnum())
    ):
        trail += 1
    return lead, trail


@dataclass(frozen=True)
class _Ctx:
    transcript: Transcript
    folded: Folded
    tokens: Sequence[Token]
    evidence: Evidence
    settings: TriageSettings

    def span(self, first: Token, lead: int, last: Token, trail: int) -> TranscriptSpan:
        return token_span(self.transcript, self.folded, first, lead, last, trail)

    @functools.cached_property
    def _trigrams(self) -> frozenset[tuple[str, ...]]:
        keys = [k for k in (loose_key(t.text) for t in self.tokens) if k]
        return frozenset(zip(keys, keys[1:], keys[2:], strict=False))

    def elsewhere(self, words: Sequence[str]) -> float:
        """Share of the word trigrams of scan text ``words`` that the transcript has
        somewhere: text it holds in another place (a pull quote, a zone read in another
        order, a line the alignment paired elsewhere) rather than lacks. 0 for fewer
        than three words."""
        keys = [k for k in (loose_key(w) for w in words) if k]
        grams = list(zip(keys, keys[1:], keys[2:], strict=False))
        return round(sum(g in self._trigrams for g in grams) / len(grams), 3) if grams else 0.0

    def unechoed(self, t_toks: Sequence[Token], o: str) -> str:
        """``o`` without edge ``*``/``_`` that the transcript has as markup around the
        same words (a typed ``*NND*`` that markdown read as emphasis)."""
        raw = self.transcript.text
        start, end = t_toks[0].start, t_toks[-1].end
        while o and o[0] in "*_" and start > 0 and raw[start - 1] == o[0]:
            o, start = o[1:], start - 1
        while o and o[-1] in "*_" and end < len(raw) and raw[end] == o[-1]:
            o, end = o[:-1], end + 1
        return o


def triage(
    transcript: Transcript,
    folded: Folded,
    tokens: Sequence[Token],
    alignment: Alignment,
    lexicon: Lexicon,
    dictionary: Dictionary,
    settings: TriageSettings = TriageSettings(),
) -> list[Finding]:
    """Findings for every disagreement in ``alignment``, in transcript order."""
    speaks = dictionary_coverage([t.text for t in tokens], dictionary) >= MIN_DICTIONARY_COVERAGE
    ctx = _Ctx(transcript, folded, tokens, Evidence(lexicon, dictionary, speaks), settings)
    findings: list[Finding] = []
    for pa in alignment.pages:
        findings.extend(_page_findings(ctx, pa))
    findings.extend(_coverage_findings(ctx, alignment))
    return sorted(_with_repeated_confusions(findings), key=_order)


def _with_repeated_confusions(findings: list[Finding]) -> list[Finding]:
    """``findings`` with ``confusion_repeats`` on every substitution that has features:
    a document-wide count (:func:`features.repeated_confusions`)."""
    subs = [
        (i, f.transcript.text, f.scan.text)
        for i, f in enumerate(findings)
        if f.kind is Kind.SUBSTITUTION and f.features and f.transcript is not None and f.scan is not None
    ]
    values = repeated_confusions([(t, o) for _, t, o in subs])
    out = list(findings)
    for (i, _, _), value in zip(subs, values, strict=True):
        out[i] = out[i].with_features(confusion_repeats=value)
    return out


def _order(f: Finding) -> tuple[int, int, int]:
    t = f.transcript
    return (t.start if t else 1 << 60, f.scan.page if f.scan else 0, f.scan.line if f.scan else 0)


def _page_findings(ctx: _Ctx, pa: PageAlignment) -> list[Finding]:
    out: list[Finding] = []
    beyond: list[tuple[int, int]] = []  # scan token ranges outside the transcribed text
    spaced: set[int] = set()  # scan marks the transcript joins to the word before
    toks = pa.tokens
    unpaired = Counter(_word_key(toks[i].text) for p in pa.pairs if p.tag != "equal" for i in range(*p.o))
    first_equal = next((i for i, p in enumerate(pa.pairs) if p.tag == "equal"), len(pa.pairs))
    last_equal = max((i for i, p in enumerate(pa.pairs) if p.tag == "equal"), default=-1)
    for idx, pair in enumerate(pa.pairs):
        edge = idx < first_equal or idx > last_equal
        if pair.tag == "equal":
            for k in range(pair.t[1] - pair.t[0]):
                t_tok, o_tok = ctx.tokens[pair.t[0] + k], toks[pair.o[0] + k]
                if _spaced_mark(t_tok.text, o_tok.text, toks, pair.o[0] + k):
                    spaced.add(pair.o[0] + k + 1)
                elif t_tok.text != o_tok.text:
                    f = _surface(ctx, pa, t_tok, o_tok, _following(ctx, pair.t[0] + k))
                    if f:
                        out.append(f)
        elif pair.tag == "replace" and edge and _unrelated(ctx, pa, pair):
            # Scan text beside the transcribed part that the transcript leaves out (a
            # signatory's typed name under "Sincerely,"): never a substitution.
            beyond.append(pair.o)
            out.append(_insertion(ctx, pa, Pair("insert", pair.t, (pair.o[0], pair.o[0])), edge))
        elif pair.tag == "replace" and (whole := _split_word(ctx, pa, pair)) is not None:
            f = _surface(ctx, pa, ctx.tokens[pair.t[0]], whole, _following(ctx, pair.t[0]))
            if f:
                out.append(f)
        elif pair.tag == "replace" and (reading := _marks_apart(ctx, pa, pair)) is not None:
            t_tok = ctx.tokens[pair.t[0]]
            f = _surface(ctx, pa, t_tok, pa.tokens[pair.o[0]], _following(ctx, pair.t[0]), reading)
            if f:
                out.append(f.with_features(letters_misread=1.0))
        elif pair.tag == "replace":
            sub = _substitution(ctx, pa, pair, unpaired)
            if sub is not None:
                out.append(sub)
        elif pair.tag == "insert":
            out.append(_insertion(ctx, pa, pair, edge))
        elif edge:
            beyond.append(pair.o)
        elif not spaced.issuperset(range(*pair.o)):
            out.append(_omission(ctx, pa, pair, edge))
    runs: list[tuple[int, int]] = []
    for lo, hi in sorted(beyond):
        if runs and lo <= runs[-1][1]:
            runs[-1] = (runs[-1][0], max(hi, runs[-1][1]))
        else:
            runs.append((lo, hi))
    out.extend(_untranscribed(ctx, pa, pa.tokens[lo:hi], _position(ctx, pa, lo)) for lo, hi in runs)
    return _line_order(ctx, pa, out)


#: Below this similarity (0..1, of the two sides' letters) a replace block at the edge of
#: the transcribed text pairs words that have nothing to do with each other.
UNRELATED = 0.4
#: A transcript line (three words or more) is matched to the scan line most like it when
#: their texts (word keys joined by spaces) are this similar, character by character...
MOVED_LINE = 0.8
#: ... and no other scan line of the page comes within this of it. Word-level similarity
#: (the earlier measure) let two OCR slips in a nine-word line fall below the bar: 19 of
#: 62 injected line swaps went unreported on the calibration sets.
MOVED_MARGIN = 0.25


def _unrelated(ctx: _Ctx, pa: PageAlignment, pair: Pair) -> bool:
    t = "".join(loose_key(x.text) for x in ctx.tokens[pair.t[0] : pair.t[1]])
    o = "".join(loose_key(x.text) for x in pa.tokens[pair.o[0] : pair.o[1]])
    return Levenshtein.normalized_similarity(t, o) < UNRELATED


def _position(ctx: _Ctx, pa: PageAlignment, o_index: int) -> int:
    """Transcript offset where scan token ``o_index`` of the page would go: before the
    first transcript word aligned at or after it, else after the page's last word."""
    for pair in pa.pairs:
        if pair.o[1] > o_index and pair.t[1] > pair.t[0]:
            return ctx.tokens[pair.t[0]].start
    last = pa.t_range[1] - 1
    return ctx.tokens[last].end if 0 <= last < len(ctx.tokens) else 0


def _untranscribed(ctx: _Ctx, pa: PageAlignment, toks: Sequence[OcrToken], pos: int) -> Finding:
    """Scan words before the first or after the last transcribed word of a page:
    letterheads, stamps, reference lines, a signatory — left out on purpose. The
    transcript span is the point where they would go."""
    scan = _scan(pa, toks)
    return Finding(
        I,
        Kind.UNTRANSCRIBED,
        ctx.transcript.span(pos, pos),
        scan,
        "",
        f"scan shows {scan.text!r} beyond the transcribed text (page furniture, stamps or a signatory)",
    )


def _line_order(ctx: _Ctx, pa: PageAlignment, found: list[Finding]) -> list[Finding]:
    """Two adjacent transcript lines that the scan shows in the other order: one
    ``line-order`` finding naming them, in place of the substitutions, insertions and
    omissions the word alignment makes of them (whose suggestions would retype a line).

    Each transcript line of three words or more is matched to the scan line of the page
    most like it (similarity >= :data:`MOVED_LINE`, ahead of the next best by
    :data:`MOVED_MARGIN`); a line matched to a later
    scan line than the line after it is swapped with it. Transcripts that do not keep
    the scan's line breaks match no line and are left alone."""
    t = ctx.transcript
    t_lines: dict[int, list[str]] = {}
    for tok in ctx.tokens[pa.t_range[0] : pa.t_range[1]]:
        key = loose_key(tok.text)
        if key:
            t_lines.setdefault(t.position(tok.start)[0], []).append(key)
    scan_texts = [
        (line[0].line, " ".join(k for k in (loose_key(w.text) for w in line) if k))
        for line in pa.page.lines()
    ]
    match: dict[int, int] = {}
    for n, keys in t_lines.items():
        if len(keys) < 3:
            continue
        text = " ".join(keys)
        sims = sorted(
            ((Levenshtein.normalized_similarity(text, st), sn) for sn, st in scan_texts), reverse=True
        )
        if sims and sims[0][0] >= MOVED_LINE and (len(sims) == 1 or sims[0][0] - sims[1][0] >= MOVED_MARGIN):
            match[n] = sims[0][1]
    swaps = [n for n in sorted(match) if n + 1 in match and match[n] > match[n + 1]]
    out = list(found)
    for n in swaps:
        lo, hi = n, n + 1
        scan_of = {match[lo], match[hi]}
        start = t.line_starts[lo - 1]
        end = t.line_starts[hi - 1] + len(t.line_text(hi))

        def inside(f: Finding, start: int = start, end: int = end, scan_of: set[int] = scan_of) -> bool:
            if f.transcript is not None and f.transcript.start >= start and f.transcript.end <= end + 1:
                return f.kind is not Kind.OMISSION or f.scan is None or f.scan.line in scan_of
            return f.transcript is None and f.scan is not None and f.scan.line in scan_of

        out = [f for f in out if not inside(f)]
        box = None
        for w in pa.page.words:
            if w.line in scan_of:
                box = w.box if box is None else box.union(w.box)
        first = min(scan_of)
        scan = ScanSpan(
            pa.page.number,
            first,
            " ".join(w.text for w in pa.page.words if w.line == first),
            round(min((w.conf for w in pa.page.words if w.line in scan_of), default=0.0), 1),
            box,
            _scan(pa, []).image,
        )
        out.append(
            Finding(
                W,
                Kind.LINE_ORDER,
                t.span(start, end),
                scan,
                "",
                f"transcript lines {lo} and {hi} are in the other order on the scan: page {pa.page.number}"
                f" shows line {hi} first (scan lines {match[hi]}, {match[lo]})",
            )
        )
    return out


def _scan(pa: PageAlignment, toks: Sequence[OcrToken]) -> ScanSpan:
    box: BBox | None = None
    for o in toks:
        box = o.box if box is None else box.union(o.box)
    return ScanSpan(
        page=pa.page.number,
        line=toks[0].line if toks else 0,
        text=" ".join(o.text for o in toks),
        confidence=round(min((o.conf for o in toks), default=0.0), 1),
        bbox=box,
        image=str(pa.page.ref.path) + (f"#{pa.page.ref.frame + 1}" if pa.page.ref.multi else ""),
    )


#: Lines either side of a word that may hold the other half of its bracket: an aside
#: runs over line breaks ("(PSIS 400-22,\n21 July),"). With the word's line alone, 2 of
#: the 13 closing brackets dropped in the calibration sets went unseen (their bracket
#: opened a line or two before).
BRACKET_LINES = 3


def _bracket_window(transcript: Transcript, offset: int) -> str:
    """The transcript's lines around ``offset`` that may pair its brackets: up to
    :data:`BRACKET_LINES` either side, not across a blank line (a paragraph's end).
    Only the counts of brackets matter, so the lines' order does not."""
    line = transcript.position(offset)[0]
    last = transcript.line_count
    lines = [transcript.line_text(line)]
    for step in (-1, 1):
        k = line + step
        while 1 <= k <= last and abs(k - line) <= BRACKET_LINES:
            text = transcript.line_text(k)
            if not text.strip():
                break
            lines.append(text)
            k += step
    return "\n".join(lines)


def _surface(
    ctx: _Ctx, pa: PageAlignment, t_tok: Token, o_tok: OcrToken, following: str, reading: str | None = None
) -> Finding | None:
    """Same word, different case or punctuation; ``following`` is the transcript's next
    word; ``reading`` what the scan is taken to show, when not ``o_tok``'s text."""
    t, o = t_tok.text, ctx.unechoed([t_tok], reading if reading is not None else o_tok.text)
    if t == o:
        return None
    lead, trail = _trim_common(t, o)
    t_core, o_core = t[lead : len(t) - trail], o[lead : len(o) - trail]
    span = ctx.span(t_tok, lead, t_tok, trail)
    scan = _scan(pa, [o_tok])
    # Tesseract confuses , ; . and invents specks of punctuation all the time; what it
    # rarely invents is the bracket or quote that the transcript's own text is missing.
    balances = restores_balance(_bracket_window(ctx.transcript, t_tok.start), t_core, o_core)
    feats = substitution_features(
        ctx.evidence, t, o, o, o_tok.conf, None, balances=balances, edge=_edge(pa, scan.bbox)
    )
    feats["stop_fits_scan"] = stop_fits(t, o, following)
    feats["closed_word_mark"] = closed_word_mark(t, o)
    case = t_core.lower() == o_core.lower()  # not casefold: ß against ss is a letter, not case
    sev = W if balances and not case and o_tok.conf >= ctx.settings.low_conf else I
    what = "case differs" if case else "punctuation differs"
    return Finding(
        sev,
        Kind.SUBSTITUTION,
        span,
        scan,
        o_core,
        f"{what}: transcript has {t_core!r}, scan shows {o_core!r}",
        tuple(feats.items()),
    )


def _following(ctx: _Ctx, i: int) -> str:
    """The text of the transcript word after word ``i`` (``""`` after the last)."""
    return ctx.tokens[i + 1].text if i + 1 < len(ctx.tokens) else ""


def _split_word(ctx: _Ctx, pa: PageAlignment, pair: Pair) -> OcrToken | None:
    """One transcript word that the OCR read in pieces on one line (``Sovi et``, ``yi el
    ded``: a proportional face's letter gap taken for a space) as one scan token, when the
    pieces hold the same letters and digits and the transcript's word is no run-together
    of words the pieces are; None otherwise. The word is then compared
    as an equal pair's is (:func:`_surface`): the same text, spaced otherwise, is no
    finding, and a mark one side lacks is a punctuation difference. Measured on the
    calibration sets (two seeds): 208 such pairs, none on an injected error; as
    substitutions 10 of them scored above 0.6 held out (``Soviet`` for ``Sovi et``,
    suggesting ``Soviet``)."""
    if pair.t[1] - pair.t[0] != 1 or pair.o[1] - pair.o[0] < 2:
        return None
    pieces = pa.tokens[pair.o[0] : pair.o[1]]
    if len({x.line for x in pieces}) != 1:
        return None
    t = ctx.tokens[pair.t[0]].text
    joined = "".join(x.text for x in pieces)
    if not loose_key(t) or loose_key(joined) != loose_key(t):
        return None
    if not ctx.evidence.plausible(t) and ctx.evidence.plausible(" ".join(x.text for x in pieces)):
        return None  # words the transcript runs together (``restrictionswere``): a slip
    return OcrToken(joined, tuple(w for x in pieces for w in x.words))


#: Letters of a misread word and of the transcript's alike enough (normalised similarity)
#: for the misreading to be the OCR's, with the marks around them judged on their own.
MARKS_APART_SIMILARITY = 0.7


def _marks_apart(ctx: _Ctx, pa: PageAlignment, pair: Pair) -> str | None:
    """The scan's marks around the transcript's letters (``destroyed,``), for one word
    that the OCR misread (``cestroyed,``: no word, where the transcript's ``destroyed.``
    is one and alike) and whose marks differ from the transcript's; None otherwise. The
    letters are the OCR's slip; the marks are a question of their own, which the
    misread letters used to hide. On the calibration sets (two seeds): 253 such words, 8
    of them punctuation slips (3 now reach a warning held out, none did before) and
    none a slip of letters."""
    if pair.t[1] - pair.t[0] != 1 or pair.o[1] - pair.o[0] != 1:
        return None
    t_tok = ctx.tokens[pair.t[0]]
    t, o = t_tok.text, ctx.unechoed([t_tok], pa.tokens[pair.o[0]].text)
    t_lead, t_core, t_trail = _split_marks(t)
    o_lead, o_core, o_trail = _split_marks(o)
    if (t_lead, t_trail) == (o_lead, o_trail) or not t_core or not o_core or t_core == o_core:
        return None
    if has_digit(t_core) or has_digit(o_core):
        return None
    if not ctx.evidence.plausible(t_core) or ctx.evidence.plausible(o_core):
        return None
    if Levenshtein.normalized_similarity(t_core.lower(), o_core.lower()) < MARKS_APART_SIMILARITY:
        return None
    return o_lead + t_core + o_trail


def _split_marks(word: str) -> tuple[str, str, str]:
    """``word`` as (leading marks, letters and digits between, trailing marks)."""
    i, j = 0, len(word)
    while i < j and not word[i].isalnum():
        i += 1
    while j > i and not word[j - 1].isalnum():
        j -= 1
    return word[:i], word[i:j], word[j:]


#: Marks a typist may space off the word they follow.
_MARKS = ":;!?,."


def _spaced_mark(t: str, o: str, toks: Sequence[OcrToken], i: int) -> bool:
    """The scan's next token is (or starts with: the OCR may glue it to the next word)
    the mark the transcript joins to the word: ``mit :`` typed with a space before the
    colon (a typewriter and French convention), ``mit:`` in the transcript — the same
    text, spaced otherwise."""
    nxt = toks[i + 1].text if i + 1 < len(toks) else ""
    mark = nxt[: len(nxt) - len(nxt.lstrip(_MARKS))]
    return bool(mark) and t == o + mark


def _dehyphenated(ctx: _Ctx, toks: Sequence[Token]) -> str | None:
    """``rück-`` + ``sichtslos`` as ``rücksichtslos`` when the transcript hyphenates the
    word at a line end (in any language; ``Ein- und Ausgang`` on one line stays apart)."""
    if len(toks) != 2:
        return None
    a, b = toks
    if len(a.text) < 3 or not a.text.endswith("-") or not a.text[-2].isalpha() or not b.text[:1].islower():
        return None
    gap = ctx.transcript.text[a.end : b.start]
    return a.text[:-1] + b.text if "\n" in gap or "\r" in gap else None


def _word_key(text: str) -> str:
    """A word's key for finding it elsewhere on the page: case and edge marks folded;
    empty for a short word or one with no letter (they recur by chance)."""
    key = loose_key(text).casefold()
    return key if len(key) >= 4 and any(c.isalpha() for c in key) else ""


def _paired_elsewhere(t_toks: Sequence[Token], o_toks: Sequence[OcrToken], unpaired: Counter[str]) -> float:
    """Share of the transcript's words (keys of :func:`_word_key`) that the page shows
    among the scan words the alignment left unpaired, this pair's own aside: the words
    are on the scan, the pairing is wrong (a swapped line or an untranscribed signatory
    shifts the alignment), not the transcript."""
    keys = [k for k in (_word_key(t.text) for t in t_toks) if k]
    if not keys:
        return 0.0
    rest = unpaired - Counter(_word_key(o.text) for o in o_toks)
    return round(sum(rest[k] > 0 for k in keys) / len(keys), 3)


def _substitution(ctx: _Ctx, pa: PageAlignment, pair: Pair, unpaired: Counter[str]) -> Finding | None:
    """The finding for a replace pair; None when its two sides are the same text spaced
    otherwise (:func:`_spaced_otherwise`)."""
    t_toks = ctx.tokens[pair.t[0] : pair.t[1]]
    o_toks = pa.tokens[pair.o[0] : pair.o[1]]
    t = " ".join(x.text for x in t_toks)
    o = ctx.unechoed(t_toks, " ".join(x.text for x in o_toks))
    if len(t_toks) == 1 and len(o_toks) > 1 and _better_joined(ctx.evidence, o):
        o = o.replace(" ", "")  # one word the OCR broke apart (``Konoye' s``)
    # A word the transcript breaks at a line end (``rück-`` / ``sichtslos``) is judged whole.
    judged = _dehyphenated(ctx, t_toks) or t
    if _spaced_otherwise(ctx.evidence, judged, o):
        return None
    scan = _scan(pa, o_toks)
    context = _context(ctx, pair.t[0], pair.t[1] - 1) if len(t_toks) == 1 else None
    severity, suggestion, _, backed = _judge(ctx, judged, o, scan.confidence, context)
    pending = 0.0
    if severity is I and scan.confidence < ctx.settings.low_conf:
        # What a confident reading would have meant: a second reading can confirm it.
        # Only strong verdicts wait on one; a digit or a real word read at low confidence
        # is too often confirmed by a second reading of the same bad pixels.
        confident = _judge(ctx, judged, o, ctx.settings.high_conf, context)
        if confident.severity is E or confident.backed:
            severity, suggestion, backed = I, confident.suggestion, False
            pending = float(confident.severity.rank)
    # A typewriter substitute (``Strasse`` for ``Straße``) is the same word: its own class.
    typed = substitute_of(bare(t), bare(o)) if len(t_toks) == len(o_toks) == 1 else None
    if typed is not None:
        severity, suggestion, backed, pending = I, o, False, 0.0
    repeats = len(t_toks) == 1 and _repeats_neighbour(ctx, pair.t[0])
    if severity is W and repeats:
        severity = E
    feats = substitution_features(
        ctx.evidence,
        judged,
        o,
        suggestion,
        scan.confidence,
        context,
        repeats=repeats,
        t_words=len(t_toks),
        o_words=len(o_toks),
        edge=_edge(pa, scan.bbox),
    )
    feats["elsewhere"] = ctx.elsewhere([o.text for o in o_toks])
    feats["t_unpaired_on_scan"] = _paired_elsewhere(t_toks, o_toks, unpaired)
    feats["dehyphenated"] = float(judged != t)
    feats["rule_backed"], feats["rule_pending"] = float(backed), pending
    message = f"transcript has {t!r}, scan shows {o!r}"
    if typed is not None:
        feats["typewriter_on_scan" if typed == "scan" else "typewriter_in_transcript"] = 1.0
        message += (
            " (a typewriter substitute on the scan; a diplomatic transcript keeps it)"
            if typed == "scan"
            else " (a typewriter substitute in the transcript that the scan does not have)"
        )
    lead, trail = _trim_common(t, suggestion)
    if len(t_toks) > 1:  # joined text has single spaces where the file may have more
        lead = min(lead, len(t_toks[0].text))
        trail = min(trail, len(t_toks[-1].text))
    span = ctx.span(t_toks[0], lead, t_toks[-1], trail)
    return Finding(
        severity,
        Kind.SUBSTITUTION,
        span,
        scan,
        suggestion[lead : len(suggestion) - trail],
        message,
        tuple(feats.items()),
    )


def _edge(pa: PageAlignment, box: BBox | None) -> float:
    return edge_feature(box, pa.page.width, pa.page.height)


def _repeats_neighbour(ctx: _Ctx, i: int) -> bool:
    """Dittography: transcript word ``i`` is the same word as the one before or after it
    (``General General``), the commonest slip of a copying eye."""
    key = loose_key(ctx.tokens[i].text)
    return bool(key) and any(
        0 <= j < len(ctx.tokens) and loose_key(ctx.tokens[j].text) == key for j in (i - 1, i + 1)
    )


def _context(ctx: _Ctx, first: int, last: int) -> tuple[str, str]:
    """The transcript words either side of tokens ``first..last``, when no punctuation
    separates them from it (a bigram across a comma says little)."""
    prev = ctx.tokens[first - 1].text if first > 0 else ""
    nxt = ctx.tokens[last + 1].text if last + 1 < len(ctx.tokens) else ""
    own_first, own_last = ctx.tokens[first].text, ctx.tokens[last].text
    left = bare(prev) if prev and prev[-1].isalnum() and own_first[:1].isalnum() else ""
    right = bare(nxt) if nxt and nxt[:1].isalnum() and own_last[-1:].isalnum() else ""
    return left, right


class _Verdict(NamedTuple):
    severity: Severity
    suggestion: str
    why: str
    backed: bool = False  # rests on the lexicon (a term or a pattern), not on OCR alone


def _judge(ctx: _Ctx, t: str, o: str, conf: float, context: tuple[str, str] | None = None) -> _Verdict:
    """Severity, suggestion and the main reason for one substitution."""
    s, ev = ctx.settings, ctx.evidence
    if loose_key(t) == loose_key(o):
        return _Verdict(I, o, "spacing or punctuation only")
    if not any(c.isalnum() for c in t) or not any(c.isalnum() for c in o):
        return _Verdict(I, o, "marks against text (OCR noise or layout)")
    suggestion = ev.lexicon_form(o, t)
    if conf < s.floor_conf:
        return _Verdict(I, suggestion, "very low OCR confidence")
    # OCR noise seldom lands exactly on a lexicon term or identifier pattern, so such a
    # reading counts even where Tesseract's confidence is modest.
    digits = has_digit(t) or has_digit(o)
    if digits:
        p_t, p_o = ev.lexicon.pattern_for(t), ev.lexicon.pattern_for(o)
        if p_o and not p_t:
            return _Verdict(
                E,
                ev.pattern_fix(t, o),
                "scan matches an identifier pattern, transcript does not",
                backed=True,
            )
        if p_t and not p_o:
            return _Verdict(I, o, "transcript matches an identifier pattern")
    t_lex, o_lex = ev.in_lexicon(t), ev.in_lexicon(suggestion)
    t_ok, o_ok = ev.plausible(t), ev.plausible(suggestion) and not garbled(suggestion)
    if not digits and o_lex and not t_lex:
        if t_ok:
            return _Verdict(W, suggestion, "both are words; the scan's is a lexicon term", backed=True)
        return _Verdict(
            E, suggestion, "scan reading is a lexicon term, transcript's is not a word", backed=True
        )
    if conf < s.low_conf:
        return _Verdict(I, suggestion, "low OCR confidence")
    if digits:
        if homoglyphs_only(_alnum(t), _alnum(o)):
            return _Verdict(I, o, "digit/letter look-alikes (OCR noise)")
        if (
            context is not None
            and not has_digit(t)
            and t_ok
            and is_number(bare(o))
            # A word read as a number where the neighbouring words call for a word.
            and ev.context_score(context, t) >= s.context_margin
        ):
            return _Verdict(I, o, "the context wants the transcript's word, not a number")
        if not has_digit(t):
            return _Verdict(I, o, "a word read as a number")
        return _Verdict((W if conf >= s.high_conf else I), o, "identifier differs")
    if t_lex and not o_lex:
        return _Verdict(I, suggestion, "transcript reading is a lexicon term")
    near_t = ev.lexicon.nearest(t, 2) if not t_ok else []
    if not t_ok and near_t and loose_key(near_t[0][0]) == loose_key(suggestion):
        return _Verdict(E, suggestion, "transcript word is a misspelling of a lexicon term", backed=True)
    if t_ok and o_ok:
        if context is not None:
            favour = ev.context_score(context, suggestion) - ev.context_score(context, t)
            if favour <= -s.context_margin:
                return _Verdict(
                    I, suggestion, "both readings are words; the context favours the transcript's"
                )
        if ev.rarity(t, suggestion) >= s.rarity_margin:
            return _Verdict(I, suggestion, "both readings are words; the scan's is a far rarer word")
        return _Verdict((W if conf >= s.high_conf else I), suggestion, "both readings are words")
    if o_ok:
        return _Verdict(
            (E if conf >= s.high_conf else W), suggestion, "transcript word is not in the dictionary"
        )
    if t_ok:
        return _Verdict(I, suggestion, "scan reading is not a word (OCR noise)")
    if near_t:
        return _Verdict(
            W, with_core(t, near_t[0][0]), "neither reading is a word; nearest lexicon term", backed=True
        )
    return _Verdict(I, suggestion, "neither reading is a word")


def _spaced_otherwise(ev: Evidence, t: str, o: str) -> bool:
    """The transcript's text ``t`` (line-end hyphenation joined) and the scan's ``o``
    differ in spaces at most, and the transcript's spacing is not the implausible one
    (``restrictionswere`` or ``restric tions`` against the scan's words is a slip; ``of
    their`` against the OCR's ``oftheir``, ``Angele-``/``genheiten`` against the OCR's
    re-joined ``Angelegenheiten`` are the same text). Measured on the calibration sets
    (two seeds): 462 such pairs, none an injected error, all raised as punctuation
    differences, often with the verifier on the scan's side (its space or hyphen is
    there): they taught the model that a confident mark on the scan means little."""
    if t.replace(" ", "") != o.replace(" ", ""):
        return False
    return t == o or ev.plausible(t) or not ev.plausible(o)


def _better_joined(ev: Evidence, reading: str) -> bool:
    """The reading's pieces make a lexicon term, or a word, only when put together."""
    joined = reading.replace(" ", "")
    return (ev.in_lexicon(joined) and not ev.in_lexicon(reading)) or (
        ev.plausible(joined) and not ev.plausible(reading)
    )


def _alnum(text: str) -> str:
    return "".join(c for c in text if c.isalnum())


def _neighbour_conf(pa: PageAlignment, pos: int) -> float:
    near = [pa.tokens[j].conf for j in (pos - 1, pos) if 0 <= j < len(pa.tokens)]
    return min(near) if near else 0.0


def _insertion(ctx: _Ctx, pa: PageAlignment, pair: Pair, edge: bool) -> Finding:
    """Transcript words that the scan does not show."""
    t_toks = ctx.tokens[pair.t[0] : pair.t[1]]
    start, end = t_toks[0].start, t_toks[-1].end
    text = ctx.transcript.text
    # Take one neighbouring space so that removing the span leaves clean text.
    if end < len(text) and text[end] == " ":
        end += 1
    elif start > 0 and text[start - 1] == " ":
        start -= 1
    span = ctx.transcript.span(start, end)
    near = [pa.tokens[j] for j in (pair.o[0] - 1, pair.o[0]) if 0 <= j < len(pa.tokens)]
    scan = _scan(pa, near[:1]) if near else None
    words = " ".join(x.text for x in t_toks)
    prev_key = loose_key(ctx.tokens[pair.t[0] - 1].text) if pair.t[0] > 0 else ""
    next_key = loose_key(ctx.tokens[pair.t[1]].text) if pair.t[1] < len(ctx.tokens) else ""
    conf = _neighbour_conf(pa, pair.o[0])
    keys = [loose_key(x.text) for x in t_toks]
    repeats = bool(keys) and (keys[0] == prev_key or keys[-1] == next_key)
    feats = insertion_features(
        ctx.evidence,
        [x.text for x in t_toks],
        conf,
        repeats=repeats,
        at_edge=edge,
        edge=_edge(pa, scan.bbox if scan else None),
    )
    if len(t_toks) <= 2 and repeats and conf >= ctx.settings.high_conf:
        sev = E
    elif (
        edge
        or len(t_toks) > 3
        or conf < ctx.settings.high_conf
        or not any(len(w) > 1 and not is_number(w) for w in ctx.evidence.words(words))
    ):
        sev = I
    else:
        sev = W
    return Finding(
        sev,
        Kind.INSERTION,
        span,
        scan,
        "",
        f"transcript has {words!r}, which the scan does not show",
        tuple(feats.items()),
    )


def _omission(ctx: _Ctx, pa: PageAlignment, pair: Pair, edge: bool) -> Finding:
    """Scan words that the transcript lacks: one finding per run."""
    o_toks = pa.tokens[pair.o[0] : pair.o[1]]
    missing = " ".join(o.text for o in o_toks)
    at = pair.t[0]
    if at < len(ctx.tokens) and at < pa.t_range[1]:
        pos = ctx.tokens[at].start
    elif at > 0:
        pos = ctx.tokens[at - 1].end
    else:
        pos = 0
    span = ctx.transcript.span(pos, pos)
    scan = _scan(pa, o_toks)
    ev, s = ctx.evidence, ctx.settings
    feats = omission_features(
        ev,
        [o.text for o in o_toks],
        [o.conf for o in o_toks],
        at_edge=edge,
        crosses=len({o.line for o in o_toks}) > 1,
        edge=_edge(pa, scan.bbox),
    )
    feats["elsewhere"] = ctx.elsewhere([o.text for o in o_toks])
    feats.update(_placement(pa, pair))
    words = ev.words(missing)
    plausible = sum(1 for w in words if ev.plausible(w))
    confident = scan.confidence >= s.high_conf
    noise = edge or not words or not confident or plausible < max(1, 0.8 * len(words))
    sev = I if noise or all(is_number(w) for w in words) else W
    return Finding(
        sev,
        Kind.OMISSION,
        span,
        scan,
        missing,
        f"scan shows {missing!r}, missing from the transcript",
        tuple(feats.items()),
    )


def _placement(pa: PageAlignment, pair: Pair) -> dict[str, float]:
    """Where omitted scan words sit among the page's text: ``whole_lines`` (they are every
    word of the scan lines they touch) and ``in_block`` (the scan words either side are
    in the same Tesseract block as they are). A line dropped from running text is whole
    and inside its block; a letterhead, stamp or marginal note left out on purpose is
    usually a block of its own."""
    o_toks = pa.tokens[pair.o[0] : pair.o[1]]
    words = {id(w) for o in o_toks for w in o.words}
    lines = {o.line for o in o_toks}
    whole = all(id(w) in words for w in pa.page.words if w.line in lines)
    blocks = {w.block for o in o_toks for w in o.words}
    before = pa.tokens[pair.o[0] - 1] if pair.o[0] > 0 else None
    after = pa.tokens[pair.o[1]] if pair.o[1] < len(pa.tokens) else None
    inside = (
        before is not None
        and after is not None
        and len(blocks) == 1
        and before.words[-1].block in blocks
        and after.words[0].block in blocks
    )
    return {"whole_lines": float(whole), "in_block": float(inside)}


def _coverage_findings(ctx: _Ctx, alignment: Alignment) -> list[Finding]:
    """Whole ranges without scan, pages without transcript, pages out of order."""
    out: list[Finding] = []
    t = ctx.transcript
    for lo, hi in alignment.uncovered:
        toks = ctx.tokens[lo:hi]
        start, end = toks[0].start, toks[-1].end
        span = t.span(start, end)
        l0, l1 = t.position(start)[0], t.position(end)[0]
        lines = f"line {l0}" if l0 == l1 else f"lines {l0}-{l1}"
        sev = W if len(toks) >= ctx.settings.min_uncovered_tokens else I
        out.append(
            Finding(
                sev,
                Kind.NO_SCAN,
                span,
                None,
                "",
                f"transcript {lines} ({len(toks)} words) have no scan",
            )
        )
    for page in alignment.unlocated:
        confident = [w for w in page.words if w.conf >= ctx.settings.high_conf and len(w.text) > 2]
        if len(confident) < 5:
            continue
        text = " ".join(w.text for w in page.words[:12])
        box = page.words[0].box
        for w in page.words[1:]:
            box = box.union(w.box)
        out.append(
            Finding(
                W,
                Kind.UNTRANSCRIBED,
                None,
                ScanSpan(page.number, 1, text, round(page.mean_confidence, 1), box, str(page.ref.path)),
                "",
                f"page {page.number} ({page.ref.label}) has no transcript text",
            )
        )
    order = alignment.order
    if list(order) != sorted(order):
        out.append(
            Finding(
                W,
                Kind.PAGE_ORDER,
                None,
                None,
                "",
                "scan pages follow the transcript in the order " + ", ".join(map(str, order)),
            )
        )
    return out


def mismatch_finding(agreement: float, n_pages: int) -> Finding:
    return Finding(
        E,
        Kind.MISMATCH,
        None,
        None,
        "",
        f"scans do not match the transcript: {agreement:.0%} of the words on {n_pages} page(s) agree",
    )
