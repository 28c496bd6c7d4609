"""Propose a lexicon for a collection from its transcripts (and, if given, its scans).

Writing a lexicon by hand means reading the whole collection for names. Most of them
are easy to find mechanically; the hard part is which spelling is right when the
transcripts disagree (``Lozovsky`` x7, ``Loxovsky`` x2, ``Lotosky`` x1), and a lexicon
that adopts a misspelling does harm: ``check`` then treats the transcriber's slip as a
lexicon-backed reading. So:

- **Candidates** are names, not capitalised words: a word no dictionary lists and that is
  capitalised somewhere; a dictionary word only when it is capitalised inside sentences,
  never written in lowercase, and mostly not after a determiner (``China``, ``Young``,
  but not ``the Government``, nor ``Further`` or ``Subject:`` at a line start); title-case
  runs joined by function words (``Ministry of Foreign Affairs``, ``Bank of England``);
  initials with a surname (``J. F. Dulles``); all-caps words no dictionary lists.
- **Spellings** within a few edits of each other form one cluster.
- **With scans, a term must be on the scans.** The canonical spelling is the one the
  scans show most; a spelling the transcripts use but the scans never show is a *suspect
  variant*, never a term; a cluster whose spellings the scans never show takes the
  spelling the scans do show nearby (the transcriber got every occurrence wrong), or else
  is listed as unverified, not as a term.
- Without scans nothing can be verified: the file says so and ranks terms by evidence.

Each term carries a kind guessed from its context (person after a title or with
initials, place after a preposition of place, organisation for institutional heads,
publication in quotes) and its evidence counts.
"""

from __future__ import annotations

import calendar
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from rapidfuzz.distance import Levenshtein

from ocr_fix.lexicon import Dictionary, bare, near_distance
from ocr_fix.model import Word
from ocr_fix.normalize.typography import normalize_transcript
from ocr_fix.transcript import Transcript
from ocr_fix.variants import max_distance

__all__ = [
    "Cluster",
    "PatternProposal",
    "Proposal",
    "Variant",
    "candidate_counts",
    "clusters_of",
    "identifier_patterns",
    "propose",
    "render",
    "scan_counts",
]

#: The language's most frequent words ("there", "the", "he"; "der", "und") are function
#: words: never a name, nor part of one.
FUNCTION_WORDS = 150
#: Languages that capitalise every noun: there a capital says nothing about names, so a
#: word the dictionary lists is never a candidate for its capitals alone.
NOUN_CAPITALISING = frozenset({"deu", "ltz"})
#: A line with at least this share of its words capitalised is a title-case heading.
TITLE_CASE_SHARE = 0.6
#: An identifier shape must occur this often to become a ``re:`` pattern.
PATTERN_MIN = 3
#: A numeric identifier (``740.00119``) needs this many digits: fewer are dates and times.
NUMERIC_ID_DIGITS = 5
#: OCR words below this confidence support no spelling. 0: Tesseract scores some clean
#: words 0 (a speck beside them), and an exact rare name is evidence at any score.
SCAN_MIN_CONF = 0.0
#: A spelling only the scans show replaces the transcripts' spellings when the scans show
#: it at least this often, at this mean confidence.
SCAN_ONLY_MIN = 2
SCAN_ONLY_CONF = 80.0
#: ... or once, read at this confidence (the confidence triage calls confident).
SCAN_ONCE_CONF = 90.0

_SENTENCE_END = re.compile("[.!?:;][\"'\u201d\u2019)\\]]*$")
_NAME = re.compile("[^\\W\\d_]+(?:['\u2019-][^\\W\\d_]+)*")
_IDENT_EDGE = re.compile(r"^[^\w#]+|[^\w]+$")
_REGEX_SPECIAL = set(".^$*+?{}[]\\|()")
_INITIAL = re.compile(r"[A-Z]\.")
_QUOTES = "\"'\u201c\u201d\u2018\u2019\u00ab\u00bb\u201e"

#: Lowercase words that join the parts of a title-case name, in the languages of typical
#: collections (``Ministry of Foreign Affairs``, ``Banque de France``, ``Rat der Stadt``).
CONNECTORS = frozenset("of for de du des d' von der für zu zur zum di del da".split())
#: Words before a name that make it a person.
PERSON_TITLES = frozenset(
    """mr mrs miss ms dr prof sir lord lady herr herrn frau fräulein m mme mlle monsieur madame
    minister ambassador consul general colonel major captain admiral prince princess count
    countess baron king queen president secretary senator judge rabbi father mister lt
    lieutenant commander attaché attache envoy chargé charge vice deputy chief rear""".split()
)
#: Month and weekday names are capitalised everywhere: that says nothing about names.
CALENDAR_WORDS = frozenset(
    [w.casefold() for w in (*calendar.month_name, *calendar.day_name, *calendar.month_abbr) if w]
    + """janvier février mars avril mai juin juillet août septembre octobre novembre décembre
    lundi mardi mercredi jeudi vendredi samedi dimanche januar jänner februar märz juni juli
    oktober dezember montag dienstag mittwoch donnerstag freitag samstag sonnabend sonntag""".split()
)
#: Joints between the parts of a compound (``Ausweisung-s-verfahren``).
_JOINTS = ("", "s", "es", "n", "en", "e")
#: Prepositions of place: a name after one of them is most likely a place.
PLACE_PREPOSITIONS = frozenset("in at from near via into towards toward à en nach aus bei".split())
#: Determiners: a capitalised dictionary word mostly after one is an institution's common
#: noun (``the Government``, ``the Legation``), not a name.
DETERMINERS = frozenset(
    """the a an this these those his her its our their your my le la les l un une des du ce
    cette ces son sa ses leur leurs notre votre mon ma mes der die das den dem des ein eine
    einen einem einer eines dieser diese dieses sein seine ihr ihre unser unsere""".split()
)
#: Head words of organisations' names.
ORGANISATION_HEADS = frozenset(
    """ministry ministère ministerium bank banque council conseil rat department département
    office bureau committee comité ausschuss legation légation gesandtschaft embassy ambassade
    botschaft consulate consulat konsulat commission kommission society société gesellschaft
    association verein union league board agency service university université universität
    institute institut company compagnie corporation party parti partei government
    gouvernement regierung church army navy command court tribunal gericht""".split()
)


@dataclass(frozen=True, slots=True)
class Variant:
    text: str
    in_transcripts: int
    in_scans: int


@dataclass(frozen=True, slots=True)
class Cluster:
    """One proposed term: the canonical spelling and the other spellings seen.

    ``others`` are spellings of the transcripts that the canonical one stands for
    (with scans: spellings the scans do not show, the suspects); ``verified`` is False
    when nothing on the scans bears the canonical spelling out (always False without
    scans); ``kind`` is a guess from the term's contexts."""

    canonical: Variant
    others: tuple[Variant, ...]
    kind: str
    verified: bool = False

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
    """Terms (scan-supported ones when there were scans), identifier patterns, and the
    clusters the scans never show (``unverified``: not proposed as terms)."""

    clusters: tuple[Cluster, ...]
    patterns: tuple[PatternProposal, ...]
    with_scans: bool
    unverified: tuple[Cluster, ...] = ()


@dataclass
class _Occurrences:
    """What the transcripts say about one casefolded candidate."""

    forms: Counter[str] = field(default_factory=Counter)
    lowercase: int = 0  # written in lowercase somewhere
    inner: int = 0  # capitalised inside a sentence, on its own (not in a title-case run)
    after_determiner: int = 0
    kinds: Counter[str] = field(default_factory=Counter)
    qualified: bool = False


@dataclass(frozen=True, slots=True)
class _Tok:
    text: str  # the token as written
    word: str  # its bare form
    initial: bool  # first of a sentence or of a line
    line_start: bool


def _tokens(transcript: Transcript) -> list[_Tok]:
    """The markup-free text's tokens, each with whether it starts a sentence or line.

    A token is sentence-initial after ``.!?:;`` or at the start of a line: headings,
    list items and paragraphs all begin there. An initial (``J.``) ends no sentence.
    Every word of a title-case line (``Twenty-eight Thousand People Crowded into a
    Town``) counts as initial too: a heading's capitals say nothing about names.
    """
    text = normalize_transcript(transcript).text
    out: list[_Tok] = []
    for line in text.split("\n"):
        words = line.split()
        alpha = [w for w in words if w[:1].isalpha()]
        heading = len(alpha) >= 3 and sum(w[0].isupper() for w in alpha) >= TITLE_CASE_SHARE * len(alpha)
        for n, word in enumerate(words):
            prev = words[n - 1] if n else (out[-1].text if out else "")
            bare_prev = prev.strip(_QUOTES + "(")
            abbreviation = _INITIAL.fullmatch(bare_prev) or prev.casefold()[:-1] in PERSON_TITLES
            ends = bool(_SENTENCE_END.search(prev)) and not abbreviation
            # A sentence may also open inside brackets or quotes: ``(Actually, ...``.
            opens = word[:1] in "([" + _QUOTES
            out.append(_Tok(word, bare(word), heading or not prev or n == 0 or ends or opens, n == 0))
    return out


def _names_of(token: str) -> list[str]:
    """The name-like parts of a token; a hyphenated compound (``Tokyo-Moscow``,
    ``Anti-Comintern``) contributes its parts, since the parts are what gets misspelt."""
    word = bare(token)
    if not _NAME.fullmatch(word):
        return []
    return [p for p in (bare(x) for x in word.split("-")) if len(p) >= 3]


def _kind_from_context(prev: str, token: str) -> str:
    p = prev.casefold().rstrip(".")
    if p in PERSON_TITLES or _INITIAL.fullmatch(prev):
        return "person"
    if p in PLACE_PREPOSITIONS:
        return "place"
    if token[:1] in _QUOTES:
        return "publication"
    return ""


#: Where a token sits: (transcript number, token number).
_Pos = tuple[int, int]


def _collect(
    docs: Sequence[Sequence[_Tok]], dictionary: Dictionary, covered: frozenset[_Pos] = frozenset()
) -> dict[str, _Occurrences]:
    """Single-word candidates with the evidence of how the collection writes them; a
    token inside a multi-word name (``covered``) is no evidence for its words alone."""
    occ: dict[str, _Occurrences] = defaultdict(_Occurrences)
    for d, toks in enumerate(docs):
        for i, tok in enumerate(toks):
            prev = toks[i - 1].text if i else ""
            heading = tok.text.endswith(":")
            for n, word in enumerate(_names_of(tok.text)):
                o = occ[word.casefold()]
                if not word[0].isupper():
                    o.lowercase += 1
                    continue
                o.forms[word] += 1
                initial = tok.initial and n == 0
                # In ``Anglo-American`` or ``Anti-Comintern`` a listed part is capitalised
                # because the compound is: no evidence that the part is a name.
                part = len(_names_of(tok.text)) > 1 and word in dictionary
                if not initial and not heading and not part and not word.isupper() and (d, i) not in covered:
                    o.inner += 1
                    # ``the Government``, but not ``the Potsdam Conference``: the determiner
                    # goes with the head noun, the last capitalised word.
                    head = i + 1 == len(toks) or not toks[i + 1].word[:1].isupper()
                    if head and bare(prev).casefold() in DETERMINERS:
                        o.after_determiner += 1
                kind = _kind_from_context(prev, tok.text) if n == 0 else ""
                if kind:
                    o.kinds[kind] += 1
    for key, o in occ.items():
        o.qualified = bool(o.forms) and _qualifies(key, o, dictionary)
    return occ


def _compound(word: str, dictionary: Dictionary) -> bool:
    """Two listed words joined (``Ausweisungsverfahren``, ``Handelsvertrages``): a
    compound noun, not a name. Parts of four letters at least, a joint between them."""
    w = word.casefold()
    for i in range(4, len(w) - 3):
        head, tail = w[:i], w[i:]
        if tail not in dictionary:
            continue
        if any(
            head.endswith(j) and len(head) - len(j) >= 4 and head[: len(head) - len(j)] in dictionary
            for j in _JOINTS
        ):
            return True
    return False


def _capitalises_nouns(dictionary: Dictionary) -> bool:
    """German and its like: every noun capitalised, compounds written as one word."""
    return any(code in NOUN_CAPITALISING for code in dictionary.lang.split("+"))


def _function_word(word: str, dictionary: Dictionary) -> bool:
    return dictionary.rank(word) < FUNCTION_WORDS


def _qualifies(key: str, o: _Occurrences, dictionary: Dictionary) -> bool:
    """A name, by the evidence of how the collection writes it (see the module doc)."""
    if key in CALENDAR_WORDS or key in PERSON_TITLES or key in ORGANISATION_HEADS:
        return False  # capitalised as a matter of course, or a title: not names
    if key not in dictionary:
        return not (_capitalises_nouns(dictionary) and _compound(key, dictionary))
    if o.lowercase or not o.inner or _function_word(key, dictionary):
        return False
    if _capitalises_nouns(dictionary):
        return o.kinds["person"] > 0  # ``Herr Schmidt``: only a title makes it a name
    # A title before it makes it a name whatever the determiners say (``Mr. Young``).
    return o.kinds["person"] > 0 or 2 * o.after_determiner < o.inner


def candidate_counts(transcripts: Iterable[Transcript], dictionary: Dictionary) -> dict[str, Counter[str]]:
    """Casefolded single-word candidate -> its capitalised surface forms with counts."""
    docs = [_tokens(t) for t in transcripts]
    _, covered = _phrases(docs, dictionary)
    return {k: o.forms for k, o in _collect(docs, dictionary, covered).items() if o.qualified}


def _phrases(
    docs: Sequence[Sequence[_Tok]], dictionary: Dictionary
) -> tuple[dict[str, tuple[Counter[str], str]], frozenset[_Pos]]:
    """Multi-word names: casefolded phrase -> (surface forms, kind), and the token
    positions they cover.

    Title-case runs joined by :data:`CONNECTORS` with at least two capitalised words,
    cut at clause punctuation, a title and what precedes it dropped (``Foreign Minister
    Togo`` is ``Togo``), a leading determiner or sentence-initial ordinary word dropped;
    initials with a surname. A run qualifies when it names an organisation by its head
    word, a person (initials, a title before it) or holds a word no dictionary lists; a
    run of ordinary words (``North Sakhalin``, ``Potsdam Conference``) is no name, but
    its rarest word may be one."""
    seen: dict[str, Counter[str]] = defaultdict(Counter)
    kinds: dict[str, Counter[str]] = defaultdict(Counter)
    where: dict[str, list[_Pos]] = defaultdict(list)
    common: dict[str, list[_Pos]] = defaultdict(list)  # all but the rarest word of each run
    in_title: set[_Pos] = set()

    def close(d: int, run: list[tuple[int, _Tok]], before: str) -> None:
        while run and run[-1][1].word.casefold() in CONNECTORS | PERSON_TITLES:
            run.pop()
        titles = [k for k, (_, r) in enumerate(run[:-1]) if r.word.casefold() in PERSON_TITLES]
        if titles:  # ``Special Envoy Zorgov``: the words up to the title are the title
            in_title.update((d, i) for i, _ in run[: titles[-1] + 1])
            before, run = run[titles[-1]][1].text, run[titles[-1] + 1 :]
        while run and (
            run[0][1].word.casefold() in DETERMINERS | CONNECTORS
            or (
                run[0][1].initial
                and run[0][1].word in dictionary
                and run[0][1].word.casefold() not in ORGANISATION_HEADS
            )
        ):
            run.pop(0)
        if sum(1 for _, r in run if r.word[:1].isupper()) < 2:
            return
        words = [r.text[:2] if _INITIAL.match(r.text) else r.word for _, r in run]
        phrase = " ".join(words)
        key = phrase.casefold()
        seen[key][phrase] += 1
        person = any(_INITIAL.fullmatch(w) for w in words) or before.casefold().rstrip(".") in PERSON_TITLES
        # A person's surname stays a name on its own (``J. F. Dulles`` -> ``Dulles``).
        where[key].extend((d, i) for i, _ in (run[:-1] if person else run))
        rarest = min(run, key=lambda ir: dictionary.frequency(ir[1].word))[0]
        common[key].extend((d, i) for i, _ in run if i != rarest)
        if person:
            kinds[key]["person"] += 1
        elif any(w.casefold() in ORGANISATION_HEADS for w in words):
            kinds[key]["organisation"] += 1

    for d, toks in enumerate(docs):
        run: list[tuple[int, _Tok]] = []
        for i, tok in enumerate(toks):
            initial = bool(_INITIAL.match(tok.text)) and len(tok.word) == 1
            capital = tok.word[:1].isupper() and (
                initial or (bool(_NAME.fullmatch(tok.word)) and not _function_word(tok.word, dictionary))
            )
            after_initial = i > 0 and bool(_INITIAL.fullmatch(toks[i - 1].text))
            if (capital and (not run or not tok.initial or after_initial)) or (
                run and tok.word.islower() and tok.word in CONNECTORS and tok.text == tok.word
            ):
                run.append((i, tok))
            else:
                close(d, run, toks[run[0][0] - 1].text if run and run[0][0] else "")
                run = [(i, tok)] if capital else []
            if run and not initial and tok.text[-1:] in ",.;:!?)":
                close(d, run, toks[run[0][0] - 1].text if run[0][0] else "")
                run = []
        close(d, run, toks[run[0][0] - 1].text if run and run[0][0] else "")
    out: dict[str, tuple[Counter[str], str]] = {}
    covered: set[_Pos] = set(in_title)
    for key, forms in seen.items():
        words = key.split()
        org = any(w in ORGANISATION_HEADS for w in words)
        rare = any(w not in dictionary and not _INITIAL.fullmatch(w.upper()) for w in words)
        if rare or org or kinds[key]["person"]:
            kind = kinds[key].most_common(1)[0][0] if kinds[key] else ("organisation" if org else "name")
            out[key] = (forms, kind)
            covered.update(where[key])
        else:  # in ``Potsdam Conference`` or ``North Sakhalin`` only the rarest word may be a name
            covered.update(common[key])
    return out, frozenset(covered)


#: Letters a typewriter face makes twins of for the OCR (``Basle`` read ``Basie``,
#: ``Choibalsan`` read ``Choibaisan``), folded to one form by :func:`ocr_skeleton`.
_OCR_TWINS = str.maketrans({"i": "l", "1": "l", "|": "l", "!": "l", "0": "o", "e": "c"})
_OCR_PAIRS = (("rn", "m"), ("cl", "d"), ("vv", "w"))


def ocr_skeleton(word: str) -> str:
    """``word`` with the OCR's look-alike letters folded together: two spellings with
    the same skeleton differ only where the OCR cannot tell letters apart."""
    w = word.casefold()
    for a, b in _OCR_PAIRS:
        w = w.replace(a, b)
    return w.translate(_OCR_TWINS)


def scan_counts(words: Iterable[Word | str]) -> Counter[str]:
    """Casefolded bare word -> occurrences in OCR output (words Tesseract scored under
    :data:`SCAN_MIN_CONF` do not count)."""
    out: Counter[str] = Counter()
    for w in words:
        text, conf = (w, 100.0) if isinstance(w, str) else (w.text, w.conf)
        if conf < SCAN_MIN_CONF:
            continue
        for part in _names_of(text) or [bare(text)]:
            if part:
                out[part.casefold()] += 1
    return out


def _scan_support(keys: Iterable[str], words: Sequence[Word | str]) -> Counter[str]:
    """How often the scans show each transcript spelling in ``keys``: read exactly, or,
    when never read exactly, read with only look-alike letters different as a form that
    no transcript spelling claims (``Jacobsson`` on the scans backs ``Jacobsson``, not
    the transcript's ``Jaeobsson`` too)."""
    keys = set(keys)
    exact = scan_counts(words)
    twins: Counter[str] = Counter()
    for k, n in exact.items():
        if k not in keys:  # a read that is itself a transcript spelling supports only that
            twins[ocr_skeleton(k)] += n
    return Counter({k: exact[k] or twins[ocr_skeleton(k)] for k in keys})


def _scan_forms(words: Sequence[Word | str], dictionary: Dictionary) -> dict[str, tuple[str, int, float]]:
    """Capitalised non-dictionary OCR spellings: casefolded -> (form, count, mean conf)."""
    acc: dict[str, list[float]] = defaultdict(list)
    form: dict[str, str] = {}
    for w in words:
        text, conf = (w, 100.0) if isinstance(w, str) else (w.text, w.conf)
        for part in _names_of(text):
            if part[0].isupper() and part not in dictionary:
                acc[part.casefold()].append(conf)
                form.setdefault(part.casefold(), part)
    return {k: (form[k], len(v), sum(v) / len(v)) for k, v in acc.items()}


def _misread(read: str, word: str) -> bool:
    """Could the OCR have read ``word`` as ``read``? Look-alike letters only, or a few
    edits for words long enough that a few edits leave them recognisable
    (:func:`~ocr_fix.lexicon.near_distance`: none up to three letters)."""
    if ocr_skeleton(read) == ocr_skeleton(word):
        return True
    limit = near_distance(min(len(read), len(word)))
    return limit > 0 and Levenshtein.distance(read, word, score_cutoff=limit) <= limit


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


def _supported(key: str, in_scans: Counter[str], used: dict[str, int]) -> bool:
    """The scans bear a transcript spelling out: they show it at least half as often as
    the transcripts use it (an OCR misreading now and then confirms nothing)."""
    return in_scans[key] > 0 and 2 * in_scans[key] >= used[key]


def _split_attested(groups: list[list[str]], in_scans: Counter[str], used: dict[str, int]) -> list[list[str]]:
    """Spellings that the scans confirm are different words (``Hirose`` and
    ``Hirota``), not variants: each keeps its own cluster, and each unconfirmed spelling
    joins the nearest confirmed one."""
    out: list[list[str]] = []
    for group in groups:
        attested = [k for k in group if _supported(k, in_scans, used)]
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
    group together. A shape of digits alone needs inner punctuation and at least
    :data:`NUMERIC_ID_DIGITS` digits (``740.00119`` -> ``\\d{3}\\.\\d{5}``): shorter
    ones are dates, times and page numbers.
    """
    seen: dict[str, list[str]] = defaultdict(list)
    for t in transcripts:
        for m in re.finditer(r"\S+", normalize_transcript(t).text):
            core = _IDENT_EDGE.sub("", m.group())
            if not core or not any(c.isdigit() for c in core):
                continue
            if not core[0].isalpha() and not _numeric_identifier(core):
                continue
            seen[_generalise(core)].append(core)
    out = [
        PatternProposal(rx, len(ex), tuple(dict.fromkeys(ex))[:3])
        for rx, ex in seen.items()
        if len(ex) >= minimum
    ]
    return sorted(out, key=lambda p: (-p.count, p.regex))


_DATE = re.compile(r"\d{1,2}([./-])\d{1,2}\1\d{2,4}|\d{4}([./-])\d{1,2}\2\d{1,2}")


def _numeric_identifier(core: str) -> bool:
    """Digits with inner punctuation, enough digits, and not a date (``21.3.1939``)."""
    digits = sum(c.isdigit() for c in core)
    inner = any(not c.isalnum() for c in core)
    if not inner or digits < NUMERIC_ID_DIGITS or any(c.isalpha() for c in core):
        return False
    return _DATE.fullmatch(core) is None


def _generalise(core: str) -> str:
    parts = []
    for run in re.finditer(r"\d+|\D", core):
        s = run.group()
        if s[0].isdigit():
            parts.append(rf"\d{{{len(s)}}}" if len(s) > 1 else r"\d")
        else:
            parts.append("\\" + s if s in _REGEX_SPECIAL else s)
    return "".join(parts)


def _kind(o: _Occurrences, text: str) -> str:
    if o.kinds:  # the most frequent context; a title outweighs a preposition on a tie
        return max(o.kinds, key=lambda k: (o.kinds[k], k == "person"))
    if text.casefold() in ORGANISATION_HEADS:
        return "organisation"
    return "term" if text.isupper() else "name"


def propose(
    transcripts: Sequence[Transcript],
    scan_words: Sequence[Word | str] | None = None,
    min_count: int = 1,
    dictionary: Dictionary | None = None,
) -> Proposal:
    """The lexicon proposal for a collection.

    ``scan_words`` are the OCR words of the collection's scans (``Word`` with its
    confidence, or plain text; ``None``: no scans). Within a cluster the canonical
    spelling is the one the scans show most, then the one the transcripts use most.
    """
    dictionary = dictionary or Dictionary.english()
    docs = [_tokens(t) for t in transcripts]
    phrases, covered = _phrases(docs, dictionary)
    occ = _collect(docs, dictionary, covered)
    forms = {k: o.forms for k, o in occ.items() if o.qualified}
    with_scans = scan_words is not None
    in_scans = _scan_support(forms, scan_words) if scan_words is not None else Counter()
    scan_forms = _scan_forms(scan_words, dictionary) if scan_words is not None else {}
    used = {k: sum(c.values()) for k, c in forms.items()}
    terms: list[Cluster] = []
    unverified: list[Cluster] = []
    for group in _split_attested(clusters_of(sorted(forms)), in_scans, used):
        variants = [Variant(_display(forms[k]), used[k], in_scans[k]) for k in group]
        if sum(v.in_transcripts for v in variants) < min_count:
            continue
        variants.sort(key=lambda v: (-v.in_scans, -v.in_transcripts, v.text not in dictionary, v.text))
        canon, others = variants[0], variants[1:]
        kind = _kind(occ[canon.text.casefold()], canon.text)
        if not with_scans:
            terms.append(Cluster(canon, tuple(others), kind))
            continue
        if in_scans[canon.text.casefold()] > 0:  # the scans show it: that is all a term needs
            terms.append(Cluster(canon, tuple(others), kind, verified=True))
            continue
        seen = _scan_only_spelling(group, scan_forms, forms)
        if seen is not None:
            terms.append(Cluster(Variant(seen[0], 0, seen[1]), tuple(variants), kind, verified=True))
        else:
            unverified.append(Cluster(canon, tuple(others), kind))
    if scan_words is not None:
        taken = {c.canonical.text.casefold() for c in terms}
        terms.extend(_scan_only_terms(docs, scan_counts(scan_words), scan_forms, forms, taken, min_count))
    terms.extend(_phrase_terms(phrases, scan_words, min_count))
    if with_scans:
        terms.sort(key=lambda c: c.canonical.text.casefold())
    else:  # nothing verified: the best-attested first
        terms.sort(key=lambda c: (-c.total, c.canonical.text.casefold()))
    patterns = identifier_patterns(transcripts, max(PATTERN_MIN, min_count))
    return Proposal(tuple(terms), tuple(patterns), with_scans, tuple(unverified))


def _scan_only_spelling(
    group: Sequence[str], scan_forms: dict[str, tuple[str, int, float]], forms: dict[str, Counter[str]]
) -> tuple[str, int] | None:
    """The spelling the scans show near a cluster none of whose spellings they show:
    clearly read (:data:`SCAN_ONLY_MIN` times at :data:`SCAN_ONLY_CONF`, or once at
    :data:`SCAN_ONCE_CONF`), not itself a
    transcript candidate. The closest, then the most frequent."""
    best: tuple[int, int, str] | None = None
    for key, (form, count, conf) in scan_forms.items():
        if key in forms or conf < (SCAN_ONLY_CONF if count >= SCAN_ONLY_MIN else SCAN_ONCE_CONF):
            continue
        near = [Levenshtein.distance(key, k) for k in group if _linked(key, k)]
        if near and (best is None or (min(near), -count, form) < best):
            best = (min(near), -count, form)
    return (best[2], -best[1]) if best else None


def _scan_only_terms(
    docs: Sequence[Sequence[_Tok]],
    shown: Counter[str],
    scan_forms: dict[str, tuple[str, int, float]],
    forms: dict[str, Counter[str]],
    taken: set[str],
    min_count: int,
) -> list[Cluster]:
    """Names the scans show clearly that no transcript has in any spelling the OCR could
    have made of them: the transcriber got every occurrence wrong (``Domei`` typed
    ``Dovesi``), or the transcript leaves that text out. Either way a term the scans
    support, so ``check`` can see the transcript's spelling is not it."""
    vocabulary = {w.casefold() for toks in docs for tok in toks for w in _names_of(tok.text) or [tok.word]}
    written = {ocr_skeleton(w) for w in vocabulary}
    by_length: dict[int, list[str]] = defaultdict(list)
    for w in vocabulary:
        by_length[len(w)].append(w)
    out = []
    for key, (form, count, conf) in scan_forms.items():
        clear = conf >= (SCAN_ONLY_CONF if count >= SCAN_ONLY_MIN else SCAN_ONCE_CONF)
        if not clear or count < min_count or key in forms or key in taken or ocr_skeleton(key) in written:
            continue
        # Short reads are mostly noise (``Tne``); an all-caps one (``NND``) must recur.
        if form[1:].islower():
            if len(key) < 4:
                continue
        elif len(key) < 3 or count < SCAN_ONLY_MIN or conf < SCAN_ONCE_CONF:
            continue
        # ``Konove``, ``Governnent``: the OCR's misreading of a word the transcripts have
        # and the scans show elsewhere. (``NND`` near the transcript's ``ND``, which the
        # scans never show, is the scans' word: the transcript is what is wrong.)
        near = (w for n in range(len(key) - 2, len(key) + 3) for w in by_length.get(n, ()))
        if any(shown[w] > 0 and _misread(key, w) for w in near):
            continue
        out.append(Cluster(Variant(form, 0, count), (), "name", verified=True))
    return out


def _phrase_terms(
    phrases: dict[str, tuple[Counter[str], str]],
    scan_words: Sequence[Word | str] | None,
    min_count: int,
) -> list[Cluster]:
    """Multi-word names as terms; with scans, only those whose capitalised words the
    scans show."""
    in_scans = scan_counts(scan_words) if scan_words is not None else None
    out = []
    for forms, kind in phrases.values():
        text = _display(forms)
        count = sum(forms.values())
        if count < min_count:
            continue
        caps = [bare(w).casefold() for w in text.split() if w[:1].isupper() and not _INITIAL.fullmatch(w)]
        if in_scans is None:
            out.append(Cluster(Variant(text, count, 0), (), kind))
            continue
        shown = min((in_scans[w] for w in caps), default=0)
        if shown > 0:
            out.append(Cluster(Variant(text, count, shown), (), kind, verified=True))
    return out


def render(p: Proposal, sources: Sequence[str] = ()) -> str:
    """The proposal as a lexicon file that ``check --lexicon`` reads; suspect and
    unverified spellings are comments, never terms."""
    lines = ["# Lexicon proposed by: ocr-fix lexicon suggest" + (f" {' '.join(sources)}" if sources else "")]
    if p.with_scans:
        lines.append("# Every term below is shown by the scans; review before use.")
    else:
        lines.append(
            "# UNVERIFIED: made without scans, so no spelling is confirmed; ranked by evidence. "
            "Review before use."
        )
    lines.append("# term<TAB>kind<TAB>note")
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
    suspects = [(o, c.canonical) for c in p.clusters if p.with_scans for o in c.others]
    if suspects:
        lines.append("#")
        lines.append("# Suspect variants: spellings of the transcripts that the scans do not show.")
        for o, canon in suspects:
            lines.append(
                f"#   {o.text} -> {canon.text} (x{o.in_transcripts} in transcripts, x{o.in_scans} in scans;"
                f" {canon.text}: x{canon.in_scans} in scans)"
            )
    if p.unverified:
        lines.append("#")
        lines.append("# Not proposed: candidates the scans never show (misspelt, or not read by the OCR).")
        for c in p.unverified:
            spellings = ", ".join(v.text for v in (c.canonical, *c.others))
            lines.append(f"#   {spellings} (x{c.total} in transcripts, x0 in scans)")
    return "\n".join(lines) + "\n"
