"""Transcript <-> OCR alignment: page-anchored, then word-level within each page.

A document has thousands of words; one global alignment would be quadratic in them. So:

1. **Anchor pages.** Word trigrams that occur once in the transcript and once on a page
   vote for where that page sits in the transcript; the longest chain of votes that is
   increasing on both sides gives the page's position. Pages therefore align even when
   the scans come in another order, and pages or transcript ranges with no counterpart
   are found instead of being forced to match.
2. **Cut the transcript at page boundaries**, splitting the stretch between two pages'
   outermost anchors by how many unmatched words each page still has there.
3. **Align words within each page** (rapidfuzz Levenshtein opcodes over word keys), and
   split every uneven replace block by a character-level alignment, so each transcript
   word is paired with the scan word(s) that show it.

Everything here works on word *keys*; the surface text and the positions stay on the
tokens, so the findings can quote both sides exactly.
"""

from __future__ import annotations

import bisect
import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rapidfuzz.distance import Levenshtein

from ocr_fix.model import BBox, Page, Word
from ocr_fix.normalize.tokens import Token, loose_key
from ocr_fix.normalize.typography import fold_ocr_text

SHINGLE = 3
#: A typed rule (``____``, ``-----``, ``=====``): layout, not text, on either side.
_RULE = re.compile(r"([_=\-~*])\1{3,}")
_FLIP = {"delete": "insert", "insert": "delete"}


@dataclass(frozen=True, slots=True)
class OcrToken:
    """A word of one page as the aligner sees it (line-end hyphenation re-joined)."""

    text: str  # typography-folded surface text
    words: tuple[Word, ...]  # the OCR word(s) it came from

    @property
    def conf(self) -> float:
        return min(w.conf for w in self.words)

    @property
    def line(self) -> int:
        return self.words[0].line

    @property
    def box(self) -> BBox:
        box = self.words[0].box
        for w in self.words[1:]:
            box = box.union(w.box)
        return box


@dataclass(frozen=True, slots=True)
class Pair:
    """One step of a page alignment: transcript tokens ``t`` against scan tokens ``o``.

    ``tag`` is ``equal``, ``replace`` (both sides non-empty), ``insert`` (transcript
    only) or ``delete`` (scan only). Ranges are half-open token indices.
    """

    tag: str
    t: tuple[int, int]
    o: tuple[int, int]


@dataclass(frozen=True, slots=True)
class PageAlignment:
    page: Page
    tokens: tuple[OcrToken, ...]
    t_range: tuple[int, int]  # transcript tokens assigned to this page
    pairs: tuple[Pair, ...]

    @property
    def matched(self) -> int:
        return sum(p.t[1] - p.t[0] for p in self.pairs if p.tag == "equal")


@dataclass(frozen=True, slots=True)
class Alignment:
    pages: tuple[PageAlignment, ...]  # located pages, in transcript order
    unlocated: tuple[Page, ...]  # pages with no counterpart in the transcript
    uncovered: tuple[tuple[int, int], ...]  # transcript token ranges with no page
    agreement: float  # share of scan words matched exactly, over located and unlocated pages

    @property
    def order(self) -> tuple[int, ...]:
        return tuple(pa.page.number for pa in self.pages)


def page_tokens(page: Page, vocabulary: frozenset[str] = frozenset()) -> list[OcrToken]:
    """The page's words in reading order, re-joining words hyphenated at a line end.

    ``exa-`` + ``mple`` becomes ``example``, or ``pro-Axis`` when that hyphenated form
    is what the transcript uses (``vocabulary`` holds the transcript's word keys).
    """
    out: list[OcrToken] = []
    lines = page.lines()
    carry: Word | None = None
    for li, line in enumerate(lines):
        for wi, w in enumerate(line):
            text = fold_ocr_text(w.text)
            if not text.strip() or _RULE.fullmatch(text):
                continue
            if carry is not None:
                head = fold_ocr_text(carry.text)[:-1]
                joined = head + text
                hyph = head + "-" + text
                choice = (
                    hyph if loose_key(hyph) in vocabulary and loose_key(joined) not in vocabulary else joined
                )
                out.append(OcrToken(choice, (carry, w)))
                carry = None
                continue
            last_on_line = wi == len(line) - 1 and li + 1 < len(lines)
            if last_on_line and len(text) > 2 and text.endswith("-") and text[-2].isalpha():
                carry = w
                continue
            out.append(OcrToken(text, (w,)))
    if carry is not None:
        out.append(OcrToken(fold_ocr_text(carry.text), (carry,)))
    return out


def align(tokens: Sequence[Token], pages: Sequence[Page]) -> Alignment:
    """Align transcript ``tokens`` with OCR ``pages`` (see module docstring)."""
    t_keys = [loose_key(t.text) for t in tokens]
    vocab = frozenset(t_keys)
    page_toks = [page_tokens(p, vocab) for p in pages]
    p_keys = [[loose_key(o.text) for o in toks] for toks in page_toks]

    t_index = _unique_shingles(t_keys)
    located: list[_Located] = []
    for i, keys in enumerate(p_keys):
        chain = _anchor_chain(keys, t_index)
        if len(chain) >= 2:
            (pf, tf), (pl, tl) = chain[0], chain[-1]
            located.append(_Located(tf, tl + SHINGLE, pf, len(keys) - pl - SHINGLE, i))
    located = _drop_overlapping(sorted(located))

    ranges = _page_ranges(located, len(tokens))
    page_aligns: list[PageAlignment] = []
    for (t0, t1), loc in zip(ranges, located, strict=True):
        i = loc.page
        pairs = _align_words(
            t_keys[t0:t1], p_keys[i], [t.text for t in tokens[t0:t1]], [o.text for o in page_toks[i]], t0
        )
        # Transcript words at either end that the page does not show are not this
        # page's: they belong to a neighbour, or to no scan at all.
        while pairs and pairs[0].tag == "insert":
            t0 = pairs.pop(0).t[1]
        while pairs and pairs[-1].tag == "insert":
            t1 = pairs.pop().t[0]
        page_aligns.append(PageAlignment(pages[i], tuple(page_toks[i]), (t0, t1), tuple(pairs)))
    covered = [pa.t_range for pa in page_aligns]
    located_idx = {loc.page for loc in located}
    unlocated = tuple(p for i, p in enumerate(pages) if i not in located_idx)
    total = sum(len(k) for k in p_keys)
    matched = sum(pa.matched for pa in page_aligns)
    return Alignment(
        pages=tuple(page_aligns),
        unlocated=unlocated,
        uncovered=tuple(_gaps(covered, len(tokens))),
        agreement=matched / total if total else 0.0,
    )


def _shingles(keys: Sequence[str]) -> list[tuple[str, ...]]:
    return [tuple(keys[i : i + SHINGLE]) for i in range(len(keys) - SHINGLE + 1)]


def _unique_shingles(keys: Sequence[str]) -> dict[tuple[str, ...], int]:
    counts = Counter(_shingles(keys))
    return {s: i for i, s in enumerate(_shingles(keys)) if counts[s] == 1 and all(s)}


def _anchor_chain(keys: Sequence[str], t_index: dict[tuple[str, ...], int]) -> list[tuple[int, int]]:
    """Longest chain of (page pos, transcript pos) anchors increasing on both sides."""
    sh = _shingles(keys)
    counts = Counter(sh)
    anchors = [(p, t_index[s]) for p, s in enumerate(sh) if counts[s] == 1 and s in t_index]
    if not anchors:
        return []
    # Drop votes far from the consensus offset, so one stray trigram cannot stretch a page.
    offsets = sorted(t - p for p, t in anchors)
    median = offsets[len(offsets) // 2]
    limit = len(keys) + 50
    anchors = [(p, t) for p, t in anchors if abs((t - p) - median) <= limit]
    return _longest_increasing(anchors)


def _longest_increasing(anchors: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Longest subsequence increasing in the transcript position (patience sort)."""
    tails: list[int] = []
    tail_idx: list[int] = []
    prev = [-1] * len(anchors)
    for i, (_, t) in enumerate(anchors):
        k = bisect.bisect_left(tails, t)
        if k == len(tails):
            tails.append(t)
            tail_idx.append(i)
        else:
            tails[k] = t
            tail_idx[k] = i
        prev[i] = tail_idx[k - 1] if k else -1
    out: list[tuple[int, int]] = []
    i = tail_idx[-1] if tail_idx else -1
    while i >= 0:
        out.append(anchors[i])
        i = prev[i]
    return out[::-1]


@dataclass(frozen=True, order=True, slots=True)
class _Located:
    """Where a page's anchors sit: transcript tokens ``t_first..t_last`` (exclusive),
    with ``head`` page words before the first anchor and ``tail`` after the last."""

    t_first: int
    t_last: int
    head: int
    tail: int
    page: int  # index into the pages given to :func:`align`

    @property
    def length(self) -> int:
        return self.t_last - self.t_first


def _drop_overlapping(located: list[_Located]) -> list[_Located]:
    """Keep pages whose anchored spans do not mostly overlap an earlier one; of two
    that do, the longer (a duplicate scan of a page would otherwise claim the same
    transcript words twice)."""
    kept: list[_Located] = []
    for loc in located:
        if kept and loc.t_first < kept[-1].t_last:
            overlap = kept[-1].t_last - loc.t_first
            if overlap > 0.5 * min(loc.length, kept[-1].length):
                if loc.length > kept[-1].length:
                    kept[-1] = loc
                continue
        kept.append(loc)
    return kept


def _page_ranges(located: Sequence[_Located], n_tokens: int) -> list[tuple[int, int]]:
    """Transcript token range of each located page, none overlapping.

    Each page reaches past its outermost anchors by the page words left there (plus a
    little slack). Where two neighbours' reaches meet, the words between their anchors
    are split in proportion to the unanchored words each has on that side; where their
    anchors interleave, at the middle. Words beyond every reach belong to no page (a
    missing scan).
    """
    bounds = [
        [
            max(0, loc.t_first - loc.head - max(8, loc.head // 4)),
            min(n_tokens, loc.t_last + loc.tail + max(8, loc.tail // 4)),
        ]
        for loc in located
    ]
    for k in range(len(located) - 1):
        a, b = located[k], located[k + 1]
        if bounds[k][1] < bounds[k + 1][0]:
            continue
        gap = b.t_first - a.t_last
        if gap < 0:
            cut = a.t_last + gap // 2
        else:
            want = a.tail + b.head
            cut = a.t_last + (round(gap * a.tail / want) if want else gap // 2)
        cut = min(max(cut, bounds[k][0]), bounds[k + 1][1])
        bounds[k][1] = bounds[k + 1][0] = cut
    return [(lo, hi) for lo, hi in bounds]


def _align_words(
    t_keys: Sequence[str], o_keys: Sequence[str], t_text: Sequence[str], o_text: Sequence[str], t_offset: int
) -> list[Pair]:
    """Word alignment of one page; replace blocks split so each pair is small."""
    pairs: list[Pair] = []
    ops = _one_gap(list(Levenshtein.opcodes(list(t_keys), list(o_keys))), t_keys, o_keys)
    for op in _merged_opcodes(ops):
        t = (op.src_start + t_offset, op.src_end + t_offset)
        o = (op.dest_start, op.dest_end)
        if op.tag == "replace" and (op.src_end - op.src_start, op.dest_end - op.dest_start) != (1, 1):
            # Even equal-sized blocks may be split differently on each side
            # ("and effecting" against "and-effecting ...").
            pairs.extend(
                _split_replace(
                    t_text[op.src_start : op.src_end], o_text[op.dest_start : op.dest_end], t[0], o[0]
                )
            )
        elif op.tag == "replace":
            pairs.append(Pair("replace", t, o))
        else:  # rapidfuzz's "delete" drops transcript words: the transcript has extra text
            pairs.append(Pair(_FLIP.get(op.tag, op.tag), t, o))
    return pairs


@dataclass(frozen=True, slots=True)
class _Op:
    tag: str
    src_start: int
    src_end: int
    dest_start: int
    dest_end: int


def _one_gap(ops: Sequence[Any], t_keys: Sequence[str], o_keys: Sequence[str]) -> list[_Op]:
    """Opcodes where a gap that an equal run splits in two becomes one gap when the run
    can as well match the words right after the second part: ``the [promulgation of]
    the [Act, ... of] the prospective`` against the transcript's ``the the prospective``
    leaves one omission, not two around a ``the`` matched inside it. The edit distance is
    the same; a dropped clause is one edit of the transcriber's."""
    out = [_Op(o.tag, o.src_start, o.src_end, o.dest_start, o.dest_end) for o in ops]
    i = 0
    while i + 2 < len(out):
        a, eq, b = out[i : i + 3]
        k = eq.src_end - eq.src_start
        run = [*t_keys[eq.src_start : eq.src_end]]  # an equal run's words (the same on both sides)
        if eq.tag != "equal" or a.tag != b.tag:
            i += 1
        elif a.tag == "insert" and [*o_keys[b.dest_end - k : b.dest_end]] == run:
            # scan words the transcript lacks on both sides of eq
            out[i : i + 3] = [
                _Op("insert", a.src_start, a.src_start, a.dest_start, b.dest_end - k),
                _Op("equal", eq.src_start, eq.src_end, b.dest_end - k, b.dest_end),
            ]
            i = max(i - 2, 0)  # the joined gap may now match with the ops either side
        elif a.tag == "delete" and [*t_keys[b.src_end - k : b.src_end]] == run:
            # transcript words the scan lacks on both sides
            out[i : i + 3] = [
                _Op("delete", a.src_start, b.src_end - k, a.dest_start, a.dest_start),
                _Op("equal", b.src_end - k, b.src_end, eq.dest_start, eq.dest_end),
            ]
            i = max(i - 2, 0)
        else:
            i += 1
    return out


def _merged_opcodes(ops: Sequence[_Op]) -> list[_Op]:
    """Adjacent non-equal opcodes as one block: a word split or joined differently on
    each side (``expressed`` / ``express ed``) is one edit, not a change plus an extra."""
    out: list[_Op] = []
    for op in ops:
        if op.tag != "equal" and out and out[-1].tag != "equal":
            last = out[-1]
            src, dest = (last.src_start, op.src_end), (last.dest_start, op.dest_end)
            tag = "replace" if src[1] > src[0] and dest[1] > dest[0] else last.tag
            out[-1] = _Op(tag, src[0], src[1], dest[0], dest[1])
        else:
            out.append(op)
    return out


def _split_replace(t_words: Sequence[str], o_words: Sequence[str], t0: int, o0: int) -> list[Pair]:
    """Pair the words of an uneven replace block through a character alignment.

    Each transcript word goes with the scan words its characters align to; words whose
    characters all align to nothing become insertions / deletions of their own.
    """
    t_str, t_owner = _joined(t_words)
    o_str, o_owner = _joined(o_words)
    links: dict[int, set[int]] = defaultdict(set)
    for op in Levenshtein.opcodes(t_str, o_str):
        if op.tag in ("equal", "replace"):
            for k in range(op.src_end - op.src_start):
                a = t_owner[op.src_start + k]
                b = o_owner[op.dest_start + min(k, op.dest_end - op.dest_start - 1)]
                if a >= 0 and b >= 0:
                    links[a].add(b)
    pairs: list[Pair] = []
    ti, oi = 0, 0
    while ti < len(t_words) or oi < len(o_words):
        if ti < len(t_words) and links.get(ti):
            targets = links[ti]
            lo, hi = max(min(targets), oi), max(targets) + 1
            if hi <= lo:  # everything it links to is already paired
                pairs.append(Pair("insert", (t0 + ti, t0 + ti + 1), (o0 + oi, o0 + oi)))
                ti += 1
                continue
            if lo > oi:
                pairs.append(Pair("delete", (t0 + ti, t0 + ti), (o0 + oi, o0 + lo)))
            t_hi = ti + 1
            while t_hi < len(t_words) and links.get(t_hi) and min(links[t_hi]) < hi:
                hi = max(hi, max(links[t_hi]) + 1)
                t_hi += 1
            pairs.append(Pair("replace", (t0 + ti, t0 + t_hi), (o0 + lo, o0 + hi)))
            ti, oi = t_hi, hi
        elif ti < len(t_words):
            pairs.append(Pair("insert", (t0 + ti, t0 + ti + 1), (o0 + oi, o0 + oi)))
            ti += 1
        else:
            pairs.append(Pair("delete", (t0 + ti, t0 + ti), (o0 + oi, o0 + len(o_words))))
            oi = len(o_words)
    return pairs


def _joined(words: Sequence[str]) -> tuple[str, list[int]]:
    owner: list[int] = []
    parts: list[str] = []
    for i, w in enumerate(words):
        if i:
            parts.append(" ")
            owner.append(-1)
        parts.append(w)
        owner.extend([i] * len(w))
    return "".join(parts), owner


def _gaps(covered: Sequence[tuple[int, int]], n: int) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    pos = 0
    for lo, hi in sorted(covered):
        if lo > pos:
            out.append((pos, lo))
        pos = max(pos, hi)
    if pos < n:
        out.append((pos, n))
    return out
