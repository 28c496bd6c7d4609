"""Running a batch: pages of all documents through one executor, each document checked
and written as soon as its last page is back (see :mod:`ocr_fix.batch`)."""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ocr_fix.batch.discovery import Document, id_problem
from ocr_fix.batch.summary import SUMMARY, BatchResult, Outcome, SummaryLog, document_key, read_summary
from ocr_fix.errors import BadInput, OcrFixError
from ocr_fix.fileio import write_atomic
from ocr_fix.lexicon import Lexicon, load_lexicons
from ocr_fix.model import Page, PageRef, Severity
from ocr_fix.ocr.scheduler import PageScheduler, pages_label
from ocr_fix.pipeline import CheckOptions, CheckResult, check_pages, require_words, retry_layout
from ocr_fix.scans import DecodedPages, expand_scans
from ocr_fix.transcript import Transcript, read_transcript

if TYPE_CHECKING:
    from ocr_fix.distributed import PageExecutor
    from ocr_fix.ocr.cache import OcrCache
    from ocr_fix.ocr.engine import OcrEngine

FINDINGS = "findings.json"

Progress = Callable[[str, int, int], None]
#: Renders a document's findings as the text of its ``findings.json``. The CLI passes the
#: JSON report's renderer: the core knows no output format (``report/`` depends on it).
DocumentRenderer = Callable[[CheckResult], str]


@dataclass(frozen=True)
class BatchOptions:
    lexicons: tuple[Path, ...] = ()
    force: bool = False
    page_timeout: float | None = None
    check: CheckOptions = field(default_factory=CheckOptions)
    #: Where the run keeps its decoded pages (:class:`ocr_fix.scans.DecodedPages`, shared
    #: with the engine and the verifier): a document's are dropped once it is finished.
    decoded: DecodedPages | None = None


# --------------------------------------------------------------------------- running


@dataclass
class _Job:
    """A document being OCRed: what it needs and what has come back."""

    doc: Document
    key: str
    refs: list[PageRef]
    transcript: Transcript
    lexicon: Lexicon
    pages: dict[int, Page] = field(default_factory=dict)
    outstanding: int = 0
    started: float = 0.0
    failure: str | None = None

    def __post_init__(self) -> None:
        self.outstanding = len(self.refs)

    def start(self) -> None:
        if not self.started:
            self.started = time.perf_counter()


def _prepare(doc: Document, key: str, base_lexicons: Sequence[Path]) -> _Job:
    if doc.problem is not None:
        raise BadInput(doc.problem)
    if doc.transcript is None:
        raise BadInput("no transcript")
    transcript = read_transcript(doc.transcript)
    require_words(transcript)  # before any of its pages is OCRed
    lexicon = load_lexicons([*base_lexicons, *([doc.lexicon] if doc.lexicon else [])])
    refs = expand_scans(list(doc.scans)) if doc.scans else []  # none: lexicon-only
    return _Job(doc, key, refs, transcript, lexicon)


def _reason(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    if isinstance(exc, OcrFixError):
        return text or type(exc).__name__
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _quiet(stage: str, done: int, total: int) -> None:
    return None


def _no_doc(outcome: Outcome, done: int, total: int) -> None:
    return None


def run_batch(
    documents: Sequence[Document],
    out_dir: Path,
    engine: OcrEngine,
    executor: PageExecutor,
    cache: OcrCache | None = None,
    options: BatchOptions = BatchOptions(),
    progress: Progress = _quiet,
    on_document: Callable[[Outcome, int, int], None] = _no_doc,
    *,
    render: DocumentRenderer,
) -> BatchResult:
    """Check ``documents`` into ``out_dir``; see the module docstring for the contract.

    ``render`` turns a document's result into its ``findings.json``.

    ``progress(stage, done, total)`` is called for stages ``documents`` and ``pages``;
    ``on_document(outcome, done, total)`` once per finished document. An exception from
    either (Ctrl-C) cancels the pages in flight and propagates; everything written so far
    stays valid and a rerun resumes from it.
    """
    t0 = time.perf_counter()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    ids = [d.id for d in documents]
    dupes = sorted(i for i, n in Counter(ids).items() if n > 1)
    if dupes:
        raise BadInput(f"two documents with id {dupes[0]!r}")
    load_lexicons(options.lexicons)  # a bad global lexicon stops the batch before any work
    if options.page_timeout is not None:
        engine = engine.with_timeout(options.page_timeout)
    token = engine.cache_token()
    summary_path = out_dir / SUMMARY
    previous = read_summary(summary_path)

    outcomes: dict[str, Outcome] = {}
    skipped: set[str] = set()
    todo: list[tuple[Document, str]] = []
    for doc in documents:
        key = document_key(doc, options.lexicons, token, options.check)
        prev = previous.get(doc.id)
        if (
            not options.force
            and prev is not None
            and prev.ok
            and prev.key == key
            and (out_dir / doc.id / FINDINGS).is_file()
        ):
            outcomes[doc.id] = prev
            skipped.add(doc.id)
        else:
            todo.append((doc, key))

    log = SummaryLog(summary_path)
    sink = DocumentSink(out_dir, engine, cache, options, log, progress, on_document, len(todo), render)
    try:
        for outcome in _run(todo, engine, executor, cache, options, sink, progress):
            outcomes[outcome.document] = outcome
    finally:
        log.close()

    ordered = [outcomes[d.id] for d in documents]
    extra = [o for i, o in previous.items() if i not in outcomes]
    write_atomic(
        summary_path, "".join(json.dumps(o.to_dict(), ensure_ascii=False) + "\n" for o in [*ordered, *extra])
    )
    return BatchResult(tuple(ordered), frozenset(skipped), round(time.perf_counter() - t0, 3))


def _run(
    todo: Sequence[tuple[Document, str]],
    engine: OcrEngine,
    executor: PageExecutor,
    cache: OcrCache | None,
    options: BatchOptions,
    sink: DocumentSink,
    progress: Progress,
) -> Iterator[Outcome]:
    """Pages of every document through one :class:`PageScheduler` (workers stay busy
    across document boundaries); each document goes to the sink as its pages come back."""
    jobs: list[_Job] = []
    for doc, key in todo:
        try:
            jobs.append(_prepare(doc, key, options.lexicons))
        except OcrFixError as exc:
            yield sink.failed(doc, key, _reason(exc), 0, 0.0)
    sink.progress("documents", sink.done_docs, sink.total_docs)
    total = sum(len(job.refs) for job in jobs)
    progress("pages", 0, total)
    for job in jobs:
        if not job.refs:
            yield sink.finish(job)
    scheduler = PageScheduler(
        engine,
        cache=cache,
        executor=executor,
        timeout=options.page_timeout,
        progress=lambda done, total: progress("pages", done, total),
        on_start=lambda group: jobs[group].start(),
    )
    with closing(scheduler.run([job.refs for job in jobs])) as events:
        for done in events:
            job = jobs[done.group]
            if done.error is not None and job.failure is None:
                job.failure = f"{pages_label(done.task)}: {_reason(done.error)}"
                scheduler.cancel(done.group)  # the document has failed: read no more of it
            elif done.page is not None:
                job.pages[done.ref.number] = done.page
            job.outstanding -= 1
            if job.outstanding == 0:
                yield sink.finish(job)


class DocumentSink:
    """Finishes documents whose pages are all back: checks them in this process, writes
    ``findings.json`` and the summary line, reports the outcome."""

    def __init__(
        self,
        out_dir: Path,
        engine: OcrEngine,
        cache: OcrCache | None,
        options: BatchOptions,
        log: SummaryLog,
        progress: Progress,
        on_document: Callable[[Outcome, int, int], None],
        total_docs: int,
        render: DocumentRenderer,
    ) -> None:
        self.out_dir = out_dir
        self.engine = engine
        self.cache = cache
        self.options = options
        self.log = log
        self.progress = progress
        self.on_document = on_document
        self.total_docs = total_docs
        self.render = render
        self.done_docs = 0

    def finish(self, job: _Job) -> Outcome:
        try:
            return self._finish(job)
        finally:
            if self.options.decoded is not None:
                self.options.decoded.forget(job.refs)

    def _finish(self, job: _Job) -> Outcome:
        seconds = round(time.perf_counter() - job.started, 3) if job.started else 0.0
        if job.failure is not None:
            return self.failed(job.doc, job.key, job.failure, len(job.refs), seconds)
        try:
            pages = [job.pages[r.number] for r in job.refs]
            scans = [str(p) for p in job.doc.scans]
            result = check_pages(job.transcript, pages, job.lexicon, self.options.check, scans)
            # Pages whose columns ran together are read again here, in this process: rare,
            # and the pool stays busy with the other documents' pages meanwhile.
            result = retry_layout(
                result,
                job.transcript,
                pages,
                job.lexicon,
                self.options.check,
                scans,
                self.engine,
                self.cache,
                jobs=1,
            )
            target = self.out_dir / job.doc.id / FINDINGS
            target.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(target, self.render(result))
        except Exception as exc:
            return self.failed(job.doc, job.key, _reason(exc), len(job.refs), seconds)
        seconds = round(time.perf_counter() - job.started, 3) if job.started else 0.0
        outcome = Outcome(
            job.doc.id,
            "ok",
            len(job.refs),
            result.count(Severity.ERROR),
            result.count(Severity.WARNING),
            result.count(Severity.INFO),
            _mean_cer(result),
            seconds,
            job.key,
        )
        return self._record(outcome)

    def failed(self, doc: Document, key: str, reason: str, pages: int, seconds: float) -> Outcome:
        # A stale findings.json from an earlier success would contradict the summary; an
        # id that cannot name a folder under OUT touches nothing there.
        if id_problem(doc.id, root=True) is None:
            (self.out_dir / doc.id / FINDINGS).unlink(missing_ok=True)
        return self._record(Outcome(doc.id, "failed", pages, 0, 0, 0, None, seconds, key, reason))

    def _record(self, outcome: Outcome) -> Outcome:
        self.log.append(outcome)
        self.done_docs += 1
        self.progress("documents", self.done_docs, self.total_docs)
        self.on_document(outcome, self.done_docs, self.total_docs)
        return outcome


def _mean_cer(result: CheckResult) -> float | None:
    rates = [p.cer for p in result.pages if p.cer is not None]
    return round(sum(rates) / len(rates), 4) if rates else None
