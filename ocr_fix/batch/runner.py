"""Running a batch: pages of all documents through one executor, each document checked
and written as soon as its last page is back (see :mod:`ocr_fix.batch`)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ocr_fix.batch.discovery import Document
from ocr_fix.batch.summary import SUMMARY, BatchResult, Outcome, SummaryLog, document_key, read_summary
from ocr_fix.errors import BadInput, OcrFixError
from ocr_fix.fileio import write_atomic
from ocr_fix.lexicon import Lexicon, load_lexicons
from ocr_fix.model import Page, PageRef, Severity
from ocr_fix.ocr.formats import page_from_json
from ocr_fix.ocr.scheduler import chunk_size, page_result
from ocr_fix.pipeline import CheckOptions, CheckResult, check_pages, retry_layout
from ocr_fix.scans import expand_scans
from ocr_fix.transcript import Transcript, read_transcript

if TYPE_CHECKING:
    from ocr_fix.distributed import PageExecutor, PageFuture
    from ocr_fix.ocr.cache import OcrCache
    from ocr_fix.ocr.engine import OcrEngine

FINDINGS = "findings.json"

Progress = Callable[[str, int, int], None]
#: Renders a document's findings as the text of its ``findings.json``. The CLI passes the
#: JSON report's renderer: the core knows no output format (``report/`` depends on it).
DocumentRenderer = Callable[[CheckResult], str]

#: A page is declared stuck when no page at all finished for this long past the timeout
#: (Tesseract itself is killed at the timeout; this only catches a hung worker).
STALL_GRACE = 10.0


@dataclass(frozen=True)
class BatchOptions:
    lexicons: tuple[Path, ...] = ()
    force: bool = False
    page_timeout: float | None = None
    check: CheckOptions = field(default_factory=CheckOptions)


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


def _prepare(doc: Document, key: str, base_lexicons: Sequence[Path]) -> _Job:
    if doc.problem is not None:
        raise BadInput(doc.problem)
    if doc.transcript is None:
        raise BadInput("no transcript")
    transcript = read_transcript(doc.transcript)
    lexicon = load_lexicons([*base_lexicons, *([doc.lexicon] if doc.lexicon else [])])
    refs = expand_scans(list(doc.scans))
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
    dupes = sorted({i for i in ids if ids.count(i) > 1})
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
    runner = _Runner(out_dir, engine, executor, cache, options, log, progress, on_document, len(todo), render)
    try:
        for outcome in runner.run(todo):
            outcomes[outcome.document] = outcome
    finally:
        runner.cancel_all()
        log.close()

    ordered = [outcomes[d.id] for d in documents]
    extra = [o for i, o in previous.items() if i not in outcomes]
    write_atomic(
        summary_path, "".join(json.dumps(o.to_dict(), ensure_ascii=False) + "\n" for o in [*ordered, *extra])
    )
    return BatchResult(tuple(ordered), frozenset(skipped), round(time.perf_counter() - t0, 3))


class _Runner:
    """The submit/collect loop: a bounded window of pages in flight across documents."""

    def __init__(
        self,
        out_dir: Path,
        engine: OcrEngine,
        executor: PageExecutor,
        cache: OcrCache | None,
        options: BatchOptions,
        log: SummaryLog,
        progress: Progress,
        on_document: Callable[[Outcome, int, int], None],
        total_docs: int,
        render: DocumentRenderer,
    ) -> None:
        self.render = render
        self.out_dir = out_dir
        self.engine = engine
        self.executor = executor
        self.cache = cache
        self.options = options
        self.log = log
        self.progress = progress
        self.on_document = on_document
        self.total_docs = total_docs
        self.done_docs = 0
        self.total_pages = 0
        self.done_pages = 0
        self.pending: dict[Any, tuple[_Job, list[PageRef]]] = {}
        # Enough queued work that no worker idles while the parent checks a document
        # (alignment and second readings take seconds; two queued pages per worker did
        # not cover that). Pending entries are only page references, so this is cheap.
        self.window = max(8, 8 * executor.workers)

    def run(self, todo: Sequence[tuple[Document, str]]) -> Iterable[Outcome]:
        jobs: list[_Job] = []
        for doc, key in todo:
            try:
                job = _prepare(doc, key, self.options.lexicons)
            except OcrFixError as exc:
                yield self._finish_failed(doc, key, _reason(exc), 0, 0.0)
                continue
            self.total_pages += len(job.refs)
            jobs.append(job)
        self.progress("documents", self.done_docs, self.total_docs)
        self.progress("pages", 0, self.total_pages)
        queue = [(job, ref) for job in jobs for ref in job.refs]
        for job in jobs:
            job.outstanding = len(job.refs)
        position = 0
        stall = None
        if self.options.page_timeout is not None:
            # A task of n pages may take n timeouts together, then n more read one by one.
            most = chunk_size(len(queue), self.executor.workers, self.engine)
            stall = 2 * most * self.options.page_timeout + STALL_GRACE
        while position < len(queue) or self.pending:
            while position < len(queue) and self._in_flight() < self.window:
                job, ref = queue[position]
                position += 1
                if job.failure is not None:
                    yield from self._page_done(job)
                    continue
                if not job.started:
                    job.started = time.perf_counter()
                if self._take_cached(job, ref):
                    yield from self._page_done(job)
                    continue
                # Pages of one document share a task while much work is left (one
                # Tesseract start-up for several pages); the last ones go out singly.
                chunk = [ref]
                size = chunk_size(len(queue) - position + 1, self.executor.workers, self.engine)
                while len(chunk) < size and position < len(queue) and queue[position][0] is job:
                    nxt = queue[position][1]
                    position += 1
                    if self._take_cached(job, nxt):
                        yield from self._page_done(job)
                    else:
                        chunk.append(nxt)
                self._submit(job, chunk)
            if not self.pending:
                continue
            finished = self.executor.wait_any(list(self.pending), stall)
            if not finished:
                yield from self._stalled()
                continue
            for future in finished:
                job, refs = self.pending.pop(future)
                if job.failure is None:
                    self._collect(job, refs, future)
                for _ in refs:
                    yield from self._page_done(job)

    def _submit(self, job: _Job, refs: list[PageRef]) -> None:
        self.pending[self.executor.submit(refs, self.engine)] = (job, refs)

    def _in_flight(self) -> int:
        """Pages submitted and not yet collected."""
        return sum(len(refs) for _, refs in self.pending.values())

    def _collect(self, job: _Job, refs: list[PageRef], future: PageFuture) -> None:
        try:
            payloads = future.result()
        except Exception as exc:
            self._fail(job, f"{_pages_label(refs)}: {_reason(exc)}")
            return
        for ref, payload in zip(refs, payloads):
            try:
                page = page_from_json(page_result(payload))
            except Exception as exc:
                self._fail(job, f"{_pages_label([ref])}: {_reason(exc)}")
                return
            page = Page(ref, page.width, page.height, page.words)
            job.pages[ref.number] = page
            if self.cache is not None:
                self.cache.put(ref, self.engine, page)

    def _take_cached(self, job: _Job, ref: PageRef) -> bool:
        """Give ``job`` the cached OCR of ``ref``; False when there is none."""
        page = self.cache.get(ref, self.engine) if self.cache is not None else None
        if page is None:
            return False
        job.pages[ref.number] = Page(ref, page.width, page.height, page.words)
        return True

    def _fail(self, job: _Job, reason: str) -> None:
        job.failure = reason
        for future, (other, _) in list(self.pending.items()):
            if other is job:
                future.cancel()

    def _stalled(self) -> Iterable[Outcome]:
        """No task finished for the longest it may take plus STALL_GRACE: executing ones are stuck."""
        stuck = self.executor.executing(list(self.pending))
        if not stuck:
            return
        per_page = self.options.page_timeout or 0.0  # stalls are only watched with a timeout
        for future in stuck:
            job, refs = self.pending.pop(future)
            future.cancel()
            if job.failure is None:
                self._fail(job, f"{_pages_label(refs)}: timed out after {per_page * len(refs):g} s")
            for _ in refs:
                yield from self._page_done(job)
        self.executor.restart()
        for future, (job, refs) in list(self.pending.items()):
            if future.done():
                continue
            del self.pending[future]
            if job.failure is None:
                self._submit(job, refs)
            else:
                for _ in refs:
                    yield from self._page_done(job)

    def _page_done(self, job: _Job) -> Iterable[Outcome]:
        job.outstanding -= 1
        self.done_pages += 1
        self.progress("pages", self.done_pages, self.total_pages)
        if job.outstanding == 0:
            yield self._finish(job)

    def _finish(self, job: _Job) -> Outcome:
        seconds = round(time.perf_counter() - job.started, 3) if job.started else 0.0
        if job.failure is not None:
            return self._finish_failed(job.doc, job.key, job.failure, len(job.refs), seconds)
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
            return self._finish_failed(job.doc, job.key, _reason(exc), len(job.refs), seconds)
        seconds = round(time.perf_counter() - job.started, 3)
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

    def _finish_failed(self, doc: Document, key: str, reason: str, pages: int, seconds: float) -> Outcome:
        # A stale findings.json from an earlier success would contradict the summary.
        (self.out_dir / doc.id / FINDINGS).unlink(missing_ok=True)
        return self._record(Outcome(doc.id, "failed", pages, 0, 0, 0, None, seconds, key, reason))

    def _record(self, outcome: Outcome) -> Outcome:
        self.log.append(outcome)
        self.done_docs += 1
        self.progress("documents", self.done_docs, self.total_docs)
        self.on_document(outcome, self.done_docs, self.total_docs)
        return outcome

    def cancel_all(self) -> None:
        for future in self.pending:
            future.cancel()
        self.pending.clear()


def _pages_label(refs: Sequence[PageRef]) -> str:
    """``page 3 (03.png)``, or ``pages 3-6 (03.png to 06.png)`` for a task of several."""
    first, last = refs[0], refs[-1]
    if len(refs) == 1:
        return f"page {first.number} ({first.label})"
    return f"pages {first.number}-{last.number} ({first.label} to {last.label})"


def _mean_cer(result: CheckResult) -> float | None:
    rates = [p.cer for p in result.pages if p.cer is not None]
    return round(sum(rates) / len(rates), 4) if rates else None
