"""Propose a lexicon for a collection from its transcripts (and, if given, its scans).

Writing a lexicon by hand means reading the whole collection for names. Most of them
are easy to find mechanically: words outside the general dictionary, or capitalised in
mid-sentence while rare in general English. The hard part is which spelling is right
when the transcripts disagree (``Lozovsky`` x7, ``Loxovsky`` x2, ``Lotosky`` x1): the
spellings are clustered by edit distance, and the canonical form is the one the page
scans show most often, falling back to the one the transcripts use most.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from rapidfuzz.distance import Levenshtein

from ocr_fix.lexicon import Dictionary, bare
from ocr_fix.normalize import normalize_transcript
from ocr_fix.transcript import Transcript
from ocr_fix.variants import max_distance

#: Capitalised mid-sentence words at least this common in general English (counts of
#: symspellpy's frequency list: "government", "moscow") are ordinary vocabulary.
RARE_FREQUENCY = 10_000_000
#: An identifier shape must occur this often to become a ``re:`` pattern.
PATTERN_MIN = 3

_SENTENCE_END = re.compile(r"[.!?:;][\"'”’)\]]*$")
_NAME = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")
_IDENT_EDGE = re.compile(r"^[^\w#]+|[^\w]+$")
_REGEX_SPECIAL = set(".^$*+?{}[]\\|()")


@dataclass(frozen=True, slots=True)
class Variant:
    text: str
    in_transcripts: int
    in_scans: int


@dataclass(frozen=True, slots=True)
class Cluster:
    """One proposed term: the canonical spelling and the other spellings seen."""

    canonical: Variant
    others: tuple[Variant, ...]
    kind: str

    @property
    def total(self) -> int:
        return self.canonical.in_transcripts + sum(v.in_transcripts for v in self.others)


@dataclass(frozen=True, slots=True)
class PatternProposal:
    regex: str
    count: int
    examples: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Proposal:
    clusters: tuple[Cluster, ...]
    patterns: tuple[PatternProposal, ...]
    with_scans: bool


def _words(transcript: Transcript) -> list[tuple[str, bool]]:
    """(token text, sentence-initial?) for each token of the markup-free text.

    A token is sentence-initial after ``.!?:;`` or at the start of a line: headings,
    list items and paragraphs all begin there.
    """
    text = normalize_transcript(transcript).text
    out: list[tuple[str, bool]] = []
    prev = ""
    for m in re.finditer(r"\S+", text):
        gap = text[m.start() - 1] if m.start() else "\n"
        initial = (
            not prev
            or gap == "\n"
            or "\n" in text[max(0, m.start() - 2) : m.start()]
            or bool(_SENTENCE_END.search(prev))
        )
        out.append((m.group(), initial))
        prev = m.group()
    return out


def _names_of(token: str) -> list[str]:
    """The name-like parts of a token; a hyphenated compound (``Tokyo-Moscow``,
    ``Anti-Comintern``) contributes its parts, since the parts are what gets misspelt."""
    word = bare(token)
    if not _NAME.fullmatch(word):
        return []
    return [p for p in (bare(x) for x in word.split("-")) if len(p) >= 3]


def candidate_counts(transcripts: Iterable[Transcript], dictionary: Dictionary) -> dict[str, Counter[str]]:
    """Casefolded candidate -> surface forms with their counts in the transcripts.

    A word qualifies when some capitalised occurrence is outside the dictionary, or is
    mid-sentence and rare in general English. All-caps dictionary words (headings) and
    sentence-initial common words never qualify; once qualified, every capitalised
    occurrence counts.
    """
    forms: dict[str, Counter[str]] = defaultdict(Counter)
    qualified: set[str] = set()
    for t in transcripts:
        for token, initial in _words(t):
            for n, word in enumerate(_names_of(token)):
                if not word[0].isupper():
                    continue
                key = word.casefold()
                forms[key][word] += 1
                if key not in qualified and _qualifies(word, initial and n == 0, dictionary):
                    qualified.add(key)
    return {k: forms[k] for k in qualified}


def _qualifies(word: str, initial: bool, dictionary: Dictionary) -> bool:
    if word not in dictionary:
        return True
    return not word.isupper() and not initial and dictionary.frequency(word) < RARE_FREQUENCY


def scan_counts(words: Iterable[str]) -> Counter[str]:
    """Casefolded bare word -> occurrences in OCR output."""
    return Counter(part.casefold() for w in words for part in (_names_of(w) or [bare(w)]) if part)


def _linked(a: str, b: str) -> bool:
    limit = min(max_distance(a), max_distance(b))
    return Levenshtein.distance(a, b, score_cutoff=limit) <= limit


def clusters_of(keys: Sequence[str]) -> list[list[str]]:
    """Single-linkage clusters of words within :func:`max_distance` of each other."""
    parent = {k: k for k in keys}

    def root(k: str) -> str:
        while parent[k] != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    ordered = sorted(keys, key=len)
    for i, a in enumerate(ordered):
        for b in ordered[i + 1 :]:
            if len(b) - len(a) > 2:
                break
            if _linked(a, b):
                parent[root(a)] = root(b)
    groups: dict[str, list[str]] = defaultdict(list)
    for k in keys:
        groups[root(k)].append(k)
    return list(groups.values())


def _split_attested(groups: list[list[str]], in_scans: Counter[str], used: dict[str, int]) -> list[list[str]]:
    """Spellings that the scans confirm are different words (``Hirose`` and
    ``Hirota``), not variants: each keeps its own cluster, and each unconfirmed spelling
    joins the nearest confirmed one.

    A spelling is confirmed when the scans show it at least half as often as the
    transcripts use it; an OCR misreading now and then (``Kenoye`` once on the scans,
    three times in the transcript) confirms nothing.
    """
    out: list[list[str]] = []
    for group in groups:
        attested = [k for k in group if in_scans[k] > 0 and 2 * in_scans[k] >= used[k]]
        if len(attested) < 2:
            out.append(group)
            continue
        parts: dict[str, list[str]] = {k: [k] for k in attested}
        for k in group:
            if k not in parts:
                home = min(attested, key=lambda a: (Levenshtein.distance(k, a), -in_scans[a], a))
                parts[home].append(k)
        out.extend(parts.values())
    return out


def _display(forms: Counter[str]) -> str:
    """The usual written form, preferring mixed case over an all-caps heading."""
    return max(forms.items(), key=lambda kv: (not kv[0].isupper(), kv[1], kv[0]))[0]


def identifier_patterns(
    transcripts: Iterable[Transcript], minimum: int = PATTERN_MIN
) -> list[PatternProposal]:
    """``re:`` patterns for identifier shapes seen at least ``minimum`` times.

    Digits generalise to ``\\d{n}``; letters and punctuation stay literal, so only
    shapes with a constant letter prefix (``H-197715``, ``H-197837`` -> ``H-\\d{6}``)
    group together.
    """
    seen: dict[str, list[str]] = defaultdict(list)
    for t in transcripts:
        for m in re.finditer(r"\S+", normalize_transcript(t).text):
            core = _IDENT_EDGE.sub("", m.group())
            if not core or not core[0].isalpha() or not any(c.isdigit() for c in core):
                continue
            seen[_generalise(core)].append(core)
    out = [
        PatternProposal(rx, len(ex), tuple(dict.fromkeys(ex))[:3])
        for rx, ex in seen.items()
        if len(ex) >= minimum
    ]
    return sorted(out, key=lambda p: (-p.count, p.regex))


def _generalise(core: str) -> str:
    parts = []
    for run in re.finditer(r"\d+|\D", core):
        s = run.group()
        if s[0].isdigit():
            parts.append(rf"\d{{{len(s)}}}" if len(s) > 1 else r"\d")
        else:
            parts.append("\\" + s if s in _REGEX_SPECIAL else s)
    return "".join(parts)


def propose(
    transcripts: Sequence[Transcript],
    scan_words: Iterable[str] | None = None,
    min_count: int = 1,
    dictionary: Dictionary | None = None,
) -> Proposal:
    """The lexicon proposal for a collection.

    ``scan_words`` are the OCR words of the collection's scans (``None``: no scans).
    Within a cluster the canonical spelling is the one the scans show most, then the
    one the transcripts use most.
    """
    dictionary = dictionary or Dictionary.english()
    forms = candidate_counts(transcripts, dictionary)
    in_scans = scan_counts(scan_words) if scan_words is not None else Counter()
    clusters: list[Cluster] = []
    used = {k: sum(c.values()) for k, c in forms.items()}
    for group in _split_attested(clusters_of(sorted(forms)), in_scans, used):
        variants = [Variant(_display(forms[k]), sum(forms[k].values()), in_scans[k]) for k in group]
        total = sum(v.in_transcripts for v in variants)
        if total < min_count:
            continue
        variants.sort(key=lambda v: (-v.in_scans, -v.in_transcripts, v.text not in dictionary, v.text))
        canon = variants[0]
        kind = "term" if canon.text.isupper() else "name"
        clusters.append(Cluster(canon, tuple(variants[1:]), kind))
    clusters.sort(key=lambda c: c.canonical.text.casefold())
    patterns = identifier_patterns(transcripts, max(PATTERN_MIN, min_count))
    return Proposal(tuple(clusters), tuple(patterns), scan_words is not None)


def render(p: Proposal, sources: Sequence[str] = ()) -> str:
    """The proposal as a lexicon file that ``check --lexicon`` reads."""
    lines = [
        "# Lexicon proposed by: ocr-fix lexicon suggest" + (f" {' '.join(sources)}" if sources else ""),
        "# Review before use: canonical = most frequent on the scans, then in the transcripts.",
        "# term<TAB>kind<TAB>note",
    ]
    for c in p.clusters:
        v = c.canonical
        note = f"x{v.in_transcripts} in transcripts" + (f", x{v.in_scans} in scans" if p.with_scans else "")
        if c.others:
            names = ", ".join(o.text for o in c.others)
            counts = f"in transcript: {', '.join(f'x{o.in_transcripts}' for o in c.others)}"
            if p.with_scans:
                counts += f"; in scans: {', '.join(f'x{o.in_scans}' for o in c.others)}"
            note += f"; variants: {names} ({counts})"
        lines.append(f"{v.text}\t{c.kind}\t{note}")
    for pat in p.patterns:
        lines.append(f"re:{pat.regex}\tidentifier\tx{pat.count}, e.g. {', '.join(pat.examples)}")
    return "\n".join(lines) + "\n"
