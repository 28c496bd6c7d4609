"""The one orchestrator: transcript + scans + lexicons -> findings.

It knows no UI. Progress goes out through a callback (``progress(stage, done, total)``)
so the CLI can draw bars, the batch runner can log lines, and tests can ignore it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from ocr_fix.align import Alignment, align
from ocr_fix.crosscheck import Scorer, verifier_features
from ocr_fix.decide import EvidenceModel, load_model
from ocr_fix.editorial import DEFAULT_EDITORIAL_MARKS, apply_marks, compile_marks, drop_marked
from ocr_fix.errors import BadInput
from ocr_fix.lexicon import Dictionary, Lexicon, load_lexicons
from ocr_fix.marks import MarkReader, mark_evidence
from ocr_fix.metrics import cer
from ocr_fix.model import BBox, Finding, Page, Severity
from ocr_fix.normalize.markdown import Folded
from ocr_fix.normalize.tokens import Token, tokenize
from ocr_fix.normalize.typography import normalize_transcript
from ocr_fix.ocr.reread import LineReader
from ocr_fix.suppress import drop_accepted
from ocr_fix.transcript import Transcript, read_transcript
from ocr_fix.triage import TriageSettings, mismatch_finding, triage
from ocr_fix.variants import lexicon_only
from ocr_fix.verify import verify
from ocr_fix.withheld import mark_withheld

if TYPE_CHECKING:
    from ocr_fix.distributed import WorkerPool
    from ocr_fix.ocr.cache import OcrCache
    from ocr_fix.ocr.engine import OcrEngine
    from ocr_fix.scans import DecodedPages
    from ocr_fix.verifier import CtcVerifier

Progress = Callable[[str, int, int], None]
#: Builds the OCR engine for a language and an optional page segmentation mode. The
#: pipeline, batch and the CLI take one, so tests inject fakes instead of patching.
EngineFactory = Callable[[str, "int | None"], "OcrEngine"]

#: Below this share of agreeing words the scans are taken to be of another document.
MISMATCH_AGREEMENT = 0.15


def _quiet(stage: str, done: int, total: int) -> None:
    return None


@dataclass(frozen=True, slots=True)
class PageStat:
    page: int
    image: str
    cer: float | None  # None when the page has no transcript text
    mean_confidence: float
    words: int
    agreement: float = 0.0  # share of the page's words matched exactly in the transcript
    rotation: int = 0  # counter-clockwise degrees the scan was turned to read it
    skew: float = 0.0  # degrees it was then levelled by
    redactions: tuple[BBox, ...] = ()  # solid bars: text under them is withheld, not missing
    variant: str = "first"  # which reading was kept (ocr_fix.readings)


@dataclass(frozen=True)
class CheckResult:
    transcript: Transcript
    scans: tuple[str, ...]
    pages: tuple[PageStat, ...]
    findings: tuple[Finding, ...]
    agreement: float | None  # None in lexicon-only mode
    order: tuple[int, ...] = ()
    lexicon_terms: int = 0

    def count(self, severity: Severity) -> int:
        return sum(1 for f in self.findings if f.severity is severity)

    def worst(self) -> Severity | None:
        return max((f.severity for f in self.findings), key=lambda s: s.rank, default=None)


@dataclass(frozen=True)
class CheckOptions:
    """What a check needs besides its inputs. ``reader`` gives disputed lines a second
    OCR reading (:mod:`ocr_fix.verify`); without one, findings rest on the first reading."""

    lexicons: tuple[Path, ...] = ()
    #: The transcript's language(s), Tesseract codes (``eng``, ``fra``, ``deu+fra``): picks
    #: the dictionary for the evidence (:meth:`ocr_fix.lexicon.Dictionary.for_language`).
    language: str = "eng"
    triage: TriageSettings = field(default_factory=TriageSettings)
    reader: LineReader | None = field(default=None, compare=False)
    #: The CTC verifier (:mod:`ocr_fix.verifier`) that scores competing readings on the crop.
    verifier: Scorer | None = field(default=None, compare=False)
    #: Reads disputed marks off the page images (:mod:`ocr_fix.marks`); None: marks are
    #: judged without the image's say.
    marks: MarkReader | None = field(default=None, compare=False)
    #: The evidence model; None: the shipped one (:func:`ocr_fix.decide.load_model`).
    model: EvidenceModel | None = field(default=None, compare=False)
    #: False: severities are triage's rule verdicts (and the second reading's), no model.
    use_model: bool = True
    #: Editorial marks (:mod:`ocr_fix.editorial`): aligned like text, never flagged.
    editorial_marks: tuple[str, ...] = DEFAULT_EDITORIAL_MARKS
    #: Accepted spellings (:func:`ocr_fix.suppress.drop_accepted`): never flagged.
    accepted: tuple[str, ...] = ()


def _unwanted_removed(
    findings: Sequence[Finding], transcript: Transcript, options: CheckOptions
) -> list[Finding]:
    """``findings`` without those on editorial marks or accepted spellings."""
    kept = drop_marked(findings, transcript.text, compile_marks(options.editorial_marks))
    return drop_accepted(kept, options.accepted)[0] if options.accepted else kept


def require_words(transcript: Transcript) -> Folded:
    """:class:`BadInput` "empty transcript" (exit 4) when nothing with a letter or digit
    is left once markup is stripped (a file of only ``**``, ``---``, comments or tags):
    such a file would otherwise be checked, in any mode, as a document with no words.
    Returns the transcript folded (:func:`normalize_transcript`), for :func:`check_pages`."""
    folded = normalize_transcript(transcript)
    _words(transcript, folded)
    return folded


def _words(transcript: Transcript, folded: Folded) -> list[Token]:
    """The tokens of ``folded``; :class:`BadInput` when none has a letter or digit."""
    tokens = tokenize(folded)
    if not any(any(ch.isalnum() for ch in t.text) for t in tokens):
        raise BadInput("empty transcript (no words once markup is removed)", transcript.path)
    return tokens


def check_pages(
    transcript: Transcript,
    pages: Sequence[Page],
    lexicon: Lexicon,
    options: CheckOptions = CheckOptions(),
    scans: Sequence[str] = (),
    progress: Progress = _quiet,
    folded: Folded | None = None,
) -> CheckResult:
    """Check ``transcript`` against already-OCRed ``pages`` (the pure part of ``check``);
    ``progress`` hears of the stages ``verifier`` and ``reread`` (see :func:`decide`);
    ``folded``: the transcript already folded (what :func:`require_words` returns), else
    it is folded here."""
    folded = folded if folded is not None else normalize_transcript(transcript)
    tokens = _words(transcript, folded)
    dictionary = Dictionary.for_language(options.language) or Dictionary.english()
    if not pages:
        findings = apply_marks(
            _unwanted_removed(
                lexicon_only(transcript, folded, tokens, lexicon, dictionary), transcript, options
            ),
            transcript.marks,
        )
        return CheckResult(transcript, tuple(scans), (), tuple(findings), None, (), len(lexicon))
    alignment = align(tokens, pages)
    stats = _page_stats(tokens, alignment, pages)
    if alignment.agreement < MISMATCH_AGREEMENT or not alignment.pages:
        findings = [mismatch_finding(alignment.agreement, len(pages))]
    else:
        findings = triage(transcript, folded, tokens, alignment, lexicon, dictionary, options.triage)
        # Before any second reading: a mark or an accepted spelling costs no OCR.
        findings = decide(
            _unwanted_removed(findings, transcript, options), pages, lexicon, options, folded, progress
        )
        findings = apply_marks(findings, transcript.marks)
        # Last: text under a redaction bar is withheld, whatever the evidence says.
        findings = mark_withheld(findings, pages)
    return CheckResult(
        transcript, tuple(scans), stats, tuple(findings), alignment.agreement, alignment.order, len(lexicon)
    )


def decide(
    findings: Sequence[Finding],
    pages: Sequence[Page],
    lexicon: Lexicon,
    options: CheckOptions,
    folded: Folded | None = None,
    progress: Progress = _quiet,
) -> list[Finding]:
    """Evidence from the image, then the model: the verifier scores the readings of every
    disagreement the model cannot already call noise (:meth:`EvidenceModel.wants_verifier`);
    the model scores each; those whose score a second reading could move
    get one (their line read again by Tesseract) and are scored again. The two steps
    that read the image again report as ``progress`` stages ``verifier`` and ``reread``
    (0 of 1 when they start, 1 of 1 when they end)."""
    # Triage's own verdict, from the hand-made rules it still applies, is one more
    # feature: the model learns how far to trust it against the image's evidence.
    out = [f.with_features(triage_rank=f.severity.rank) if f.features else f for f in findings]
    model = (options.model or load_model()) if options.use_model else None
    if options.verifier is not None:
        progress("verifier", 0, 1)
        wanted = model.wants_verifier if model is not None else None
        out = verifier_features(out, pages, options.verifier, folded, wanted)
        progress("verifier", 1, 1)
    if options.marks is not None:
        out = mark_evidence(out, pages, options.marks)
    if options.reader is not None:
        progress("reread", 0, 1)
        if model is None:  # no fitted model shipped: the hand-made rules of triage and verify
            out = verify(out, pages, options.reader, lexicon)
        else:
            out = verify(out, pages, options.reader, lexicon, wanted=model.wants_second_reading)
        progress("reread", 1, 1)
    return model.decide(out) if model is not None else out


def _page_stats(tokens: Sequence[Token], alignment: Alignment, pages: Sequence[Page]) -> tuple[PageStat, ...]:
    by_page = {pa.page.number: pa for pa in alignment.pages}
    out: list[PageStat] = []
    for page in pages:
        pa = by_page.get(page.number)
        rate, agreement = None, 0.0
        if pa is not None:
            gt = " ".join(t.text for t in tokens[pa.t_range[0] : pa.t_range[1]])
            rate = round(cer(gt, " ".join(o.text for o in pa.tokens)), 4) if gt else None
            agreement = round(pa.matched / len(pa.tokens), 4) if pa.tokens else 0.0
        label = str(page.ref.path) + (f"#{page.ref.frame + 1}" if page.ref.multi else "")
        out.append(
            PageStat(
                page.number,
                label,
                rate,
                round(page.mean_confidence, 1),
                len(page.words),
                agreement,
                page.rotation,
                page.skew,
                page.redactions,
                page.variant,
            )
        )
    return tuple(out)


def engine_for(lang: str = "eng", psm: int | None = None) -> OcrEngine:
    """The Tesseract engine with the project's tuned settings, overridden as asked."""
    from ocr_fix.ocr.tesseract import OcrSettings, TesseractEngine

    settings = OcrSettings(lang=lang)
    if psm is not None:
        settings = replace(settings, psm=psm)
    return TesseractEngine(settings)


def reader_for(engine: OcrEngine, cache: OcrCache | None) -> LineReader | None:
    """Second readings by the same engine, cached beside page OCR; none for engines that
    declare no line re-reading."""
    return engine.line_reader(cache) if engine.capabilities.line_rereading else None


def mark_reader_for(engine: OcrEngine, cache: OcrCache | None) -> MarkReader | None:
    """Disputed marks read off the pages as ``engine`` loads them (the run's decoded
    pages), cached beside page OCR, for an engine that has page images
    (``capabilities.page_images``); None for others."""
    if not engine.capabilities.page_images:
        return None
    return MarkReader(lambda page: engine.load(page.ref, mapped=True), cache)


def verifier_for(
    engine: OcrEngine,
    cache: OcrCache | None,
    pool: WorkerPool | None = None,
    decoded: DecodedPages | None = None,
) -> CtcVerifier | None:
    """The CTC verifier (PP-OCRv5 through onnxruntime), cached beside page OCR, its work
    on ``pool``'s workers if given, the pages from ``decoded`` (the run's decoded pages)
    if given, for an engine that has page images (``capabilities.page_images``; a test
    fake's pages have no pixels to ask); None too when it is not installed (then
    findings rest on Tesseract alone)."""
    from ocr_fix.verifier import load_verifier

    return load_verifier(cache, pool, decoded) if engine.capabilities.page_images else None


def cache_for(no_cache: bool, cache_dir: Path | None) -> OcrCache | None:
    from ocr_fix.ocr.cache import OcrCache

    if no_cache:
        return None
    return OcrCache(cache_dir) if cache_dir is not None else OcrCache.default()


def scan_ocr(
    engine: OcrEngine,
    cache: OcrCache | None,
    jobs: int | None = None,
    timeout: float | None = None,
    pool: WorkerPool | None = None,
) -> Callable[[Sequence[Path], Progress], list[Page]]:
    """The OCR step of :func:`check`: expand scan paths to pages, OCR them (cached,
    in parallel processes: ``pool``'s, else ``jobs`` of their own), report progress as
    stage ``ocr``."""
    from ocr_fix.ocr.scheduler import ocr_pages
    from ocr_fix.scans import expand_scans

    def run(paths: Sequence[Path], progress: Progress) -> list[Page]:
        refs = expand_scans(list(paths))
        return ocr_pages(
            refs,
            engine,
            jobs=jobs,
            cache=cache,
            timeout=timeout,
            progress=lambda done, total: progress("ocr", done, total),
            pool=pool,
        )

    return run


@dataclass(frozen=True)
class OcrRun:
    """How scans are OCRed on this machine: the settings every front end shares."""

    lang: str = "eng"
    psm: int | None = None
    jobs: int | None = None
    no_cache: bool = False
    cache_dir: Path | None = None
    timeout: float | None = None
    #: The engine to OCR with (Tesseract unless a caller, such as a test, injects another).
    engines: EngineFactory = field(default=engine_for, compare=False)


def check(
    transcript_path: Path | Transcript,
    scan_paths: Sequence[Path],
    lexicons: Sequence[Path] = (),
    run: OcrRun = OcrRun(),
    progress: Progress = _quiet,
    textequiv_level: str = "line",
    options: CheckOptions = CheckOptions(),
) -> CheckResult:
    """``ocr-fix check`` as a function: Tesseract OCR (cached, parallel), triage, the
    verifier and second readings of disputed lines, the evidence model. Lexicon-only when
    ``scan_paths`` is empty. ``options`` carries the editorial marks and accepted
    spellings, and may set the reader, verifier and model; ``lexicons`` are added to it."""
    options = replace(options, lexicons=(*options.lexicons, *lexicons))
    # Inputs are validated before any OCR starts.
    transcript = (
        transcript_path
        if isinstance(transcript_path, Transcript)
        else read_transcript(Path(transcript_path), textequiv_level)
    )
    folded = require_words(transcript)
    lexicon = load_lexicons(options.lexicons)
    if not scan_paths:
        return check_pages(transcript, [], lexicon, options, folded=folded)
    from ocr_fix.distributed import WorkerPool
    from ocr_fix.scans import decoded_pages

    engine, cache = run.engines(run.lang, run.psm), cache_for(run.no_cache, run.cache_dir)
    # One pool of workers for the run: the page OCR, then the verifier's crops of the
    # disputed places (one task a page), so the verifier is spread over the cores too.
    # Pages are decoded once: the verifier's and the second readings' crops are cut
    # from the arrays the OCR kept. The pool is stopped (its workers reaped) before
    # the directory of decoded pages, which holds the workers' Tesseract files, goes.
    with decoded_pages() as decoded, WorkerPool(run.jobs) as pool:
        engine = engine.with_decoded_pages(decoded)
        verifier = None if options.verifier is not None else verifier_for(engine, cache, pool, decoded)
        options = replace(
            options,
            reader=options.reader or reader_for(engine, cache),
            verifier=options.verifier or verifier,
            marks=options.marks or mark_reader_for(engine, cache),
        )
        pages = scan_ocr(engine, cache, run.jobs, run.timeout, pool)(list(scan_paths), progress)
        if verifier is not None:
            verifier.warm()  # the workers load the model while this process aligns
        scans = [str(p) for p in scan_paths]
        progress("align", 0, 1)
        result = check_pages(transcript, pages, lexicon, options, scans, progress, folded)
        if run.psm is None:
            result = retry_layout(
                result, transcript, pages, lexicon, options, scans, engine, cache, run.jobs, pool
            )
        progress("align", 1, 1)
    return result


#: A page with less of its text found in the transcript than this is read again with
#: Tesseract's automatic layout analysis: the default single-column mode runs the lines
#: of side-by-side columns together, which no alignment can undo.
LAYOUT_RETRY = 0.5


def retry_layout(
    result: CheckResult,
    transcript: Transcript,
    pages: Sequence[Page],
    lexicon: Lexicon,
    options: CheckOptions,
    scans: Sequence[str],
    engine: OcrEngine,
    cache: OcrCache | None,
    jobs: int | None = None,
    pool: WorkerPool | None = None,
) -> CheckResult:
    """The check again with badly aligned pages re-OCRed with automatic layout analysis
    (:meth:`OcrEngine.layout_retry`; for Tesseract psm 3), kept when more of the scans
    then agree with the transcript. Engines that declare no layout retry, or are in a
    mode the user chose, are left as asked. ``pool``: the run's workers, if any."""
    from ocr_fix.ocr.scheduler import ocr_pages

    auto = engine.layout_retry() if engine.capabilities.layout_retry else None
    if auto is None:
        return result
    # Only pages placed in the transcript: one with no transcript text, or scans of
    # another document, would cost a second OCR for nothing.
    poor = [
        page
        for page, stat in zip(pages, result.pages, strict=True)
        if stat.cer is not None and stat.agreement < LAYOUT_RETRY and page.words
    ]
    if not poor:
        return result
    again = {p.number: p for p in ocr_pages([p.ref for p in poor], auto, jobs=jobs, cache=cache, pool=pool)}
    retried = check_pages(transcript, [again.get(p.number, p) for p in pages], lexicon, options, scans)
    return retried if (retried.agreement or 0.0) > (result.agreement or 0.0) else result
