"""``batch``: check a whole archive of documents — parallel, resumable, failure-isolated.

Pages of *all* documents share one executor (a local process pool or a Dask cluster, see
:mod:`ocr_fix.distributed`), so workers stay busy across document boundaries; each
document is checked in this process as soon as its last page is back (alignment is fast,
OCR is not). Every finished document is written at once — ``OUT/<id>/findings.json``
atomically and one fsynced line of ``OUT/summary.jsonl`` — so an interrupted run loses
only the documents in flight, and a rerun skips every document whose inputs, settings
and tool version hash to the key of its last successful line.

One broken document (unreadable image, missing transcript, bad lexicon, Tesseract crash
or timeout) is recorded as ``failed`` with a one-line reason; the others go on.

The module knows no UI: progress goes out through callbacks.
"""

from __future__ import annotations

import csv
import fnmatch
import hashlib
import io
import json
import os
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from ocr_fix import __version__
from ocr_fix.errors import BadInput, InputNotFound, OcrFixError
from ocr_fix.fileio import write_atomic
from ocr_fix.lexicon import Lexicon, load_lexicons
from ocr_fix.model import Page, PageRef, Severity
from ocr_fix.ocr import chunk_size, page_from_json, page_result
from ocr_fix.pipeline import CheckOptions, CheckResult, check_pages, retry_layout
from ocr_fix.scans import SCAN_SUFFIXES, expand_scans
from ocr_fix.transcript import Transcript, read_transcript

if TYPE_CHECKING:
    from ocr_fix.distributed import PageExecutor, PageFuture
    from ocr_fix.ocr import OcrCache, OcrEngine

SUMMARY = "summary.jsonl"
FINDINGS = "findings.json"
DOC_LEXICON = "lexicon.txt"
TRANSCRIPT_NAMES = ("transcript.md", "transcript.txt")

Progress = Callable[[str, int, int], None]

#: A page is declared stuck when no page at all finished for this long past the timeout
#: (Tesseract itself is killed at the timeout; this only catches a hung worker).
STALL_GRACE = 10.0


@dataclass(frozen=True, slots=True)
class Document:
    """One unit of work: a transcript and its scans, named by ``id`` (a relative path).

    ``problem`` is set when discovery already knows the document cannot be checked
    (no transcript, two transcripts); it is reported as the failure reason.
    """

    id: str
    transcript: Path | None
    scans: tuple[Path, ...]
    lexicon: Path | None = None
    problem: str | None = None


@dataclass(frozen=True, slots=True)
class Outcome:
    """One line of ``summary.jsonl``."""

    document: str
    status: str  # "ok" | "failed"
    pages: int
    error: int
    warning: int
    info: int
    cer: float | None
    seconds: float
    key: str
    reason: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "document": self.document,
            "status": self.status,
            "pages": self.pages,
            "error": self.error,
            "warning": self.warning,
            "info": self.info,
            "cer": self.cer,
        }
        if self.reason is not None:
            out["reason"] = self.reason
        out["seconds"] = self.seconds
        out["key"] = self.key
        return out

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Outcome:
        return cls(
            str(d["document"]),
            str(d["status"]),
            int(d.get("pages", 0)),
            int(d.get("error", 0)),
            int(d.get("warning", 0)),
            int(d.get("info", 0)),
            d.get("cer"),
            float(d.get("seconds", 0.0)),
            str(d.get("key", "")),
            d.get("reason"),
        )


@dataclass(frozen=True)
class BatchOptions:
    lexicons: tuple[Path, ...] = ()
    force: bool = False
    page_timeout: float | None = None
    check: CheckOptions = field(default_factory=CheckOptions)


@dataclass(frozen=True)
class BatchResult:
    outcomes: tuple[Outcome, ...]  # this run's documents, in document order (skipped ones too)
    skipped: frozenset[str]  # ids resumed from an earlier run
    seconds: float

    @property
    def failed(self) -> tuple[Outcome, ...]:
        return tuple(o for o in self.outcomes if not o.ok)

    def total(self, attr: str) -> int:
        return sum(int(getattr(o, attr)) for o in self.outcomes)


# --------------------------------------------------------------------------- discovery


def discover(root: Path, transcript_glob: str | None = None, exclude: Sequence[Path] = ()) -> list[Document]:
    """Every folder under ``root`` (itself included) holding scans or a transcript.

    Hidden folders and ``exclude`` (the output folder when it lies inside ``root``) are
    skipped; folders with neither scans nor a transcript are not documents.
    """
    root = Path(root)
    if not root.exists():
        raise InputNotFound(root)
    if not root.is_dir():
        raise BadInput("not a directory", root)
    skip = {p.resolve() for p in exclude}
    docs: list[Document] = []
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        dirnames[:] = sorted(
            d for d in dirnames if not d.startswith(".") and (here / d).resolve() not in skip
        )
        files = sorted(f for f in filenames if not f.startswith(".") and (here / f).is_file())
        scans = tuple(here / f for f in files if Path(f).suffix.lower() in SCAN_SUFFIXES)
        transcripts = [f for f in files if _is_transcript(f, transcript_glob)]
        if not scans and not transcripts:
            continue
        doc_id = here.relative_to(root).as_posix()
        lexicon = here / DOC_LEXICON if DOC_LEXICON in files else None
        problem = None
        if not transcripts:
            problem = "no transcript" + (
                f" matching {transcript_glob}" if transcript_glob else f" ({' or '.join(TRANSCRIPT_NAMES)})"
            )
        elif len(transcripts) > 1:
            problem = f"several transcripts ({', '.join(transcripts)})"
        elif not scans:
            problem = "no page images (PNG, JPEG, TIFF, PDF)"
        transcript = here / transcripts[0] if len(transcripts) == 1 else None
        docs.append(Document(doc_id, transcript, scans, lexicon, problem))
    return docs


def _is_transcript(name: str, pattern: str | None) -> bool:
    if pattern is None:
        return name in TRANSCRIPT_NAMES
    return fnmatch.fnmatchcase(name, pattern) and Path(name).suffix.lower() not in SCAN_SUFFIXES


def read_manifest(path: Path) -> list[Document]:
    """Documents named by a CSV (header ``id,transcript,scans``) or JSONL manifest.

    ``scans`` is ``;``-separated; every path is relative to the manifest's folder. An
    optional ``lexicon`` column/key names a per-document lexicon.
    """
    path = Path(path)
    if not path.exists():
        raise InputNotFound(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (UnicodeDecodeError, OSError) as exc:
        raise BadInput(f"cannot read manifest ({type(exc).__name__})", path) from None
    rows: list[tuple[int, dict[str, Any]]] = []
    if path.suffix.lower() in (".jsonl", ".ndjson", ".json"):
        for n, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise BadInput(f"line {n}: not JSON ({exc.msg})", path) from None
            if not isinstance(row, dict):
                raise BadInput(f"line {n}: not a JSON object", path)
            rows.append((n, row))
    else:
        reader = csv.DictReader(io.StringIO(text))
        missing = {"id", "transcript", "scans"} - set(reader.fieldnames or ())
        if missing:
            raise BadInput(
                f"manifest header lacks {', '.join(sorted(missing))} (need id,transcript,scans)", path
            )
        rows = [(n, row) for n, row in enumerate(reader, start=2)]
    base = path.parent
    docs: list[Document] = []
    seen: set[str] = set()
    for n, row in rows:
        doc_id = str(row.get("id") or "").strip()
        if not doc_id:
            raise BadInput(f"line {n}: no id", path)
        pure = PurePosixPath(doc_id)
        if pure.is_absolute() or ".." in pure.parts:
            raise BadInput(f"line {n}: id {doc_id!r} must be a relative path without '..'", path)
        if doc_id in seen:
            raise BadInput(f"line {n}: duplicate id {doc_id!r}", path)
        seen.add(doc_id)
        transcript = str(row.get("transcript") or "").strip()
        raw_scans = row.get("scans") or ""
        parts = raw_scans if isinstance(raw_scans, list) else str(raw_scans).split(";")
        scans = tuple(base / str(p).strip() for p in parts if str(p).strip())
        lexicon = str(row.get("lexicon") or "").strip()
        docs.append(
            Document(
                doc_id,
                base / transcript if transcript else None,
                scans,
                base / lexicon if lexicon else None,
                None if transcript else "no transcript",
            )
        )
    return docs


# --------------------------------------------------------------------------- keys


def document_key(
    doc: Document, lexicons: Sequence[Path], engine_token: str, options: CheckOptions = CheckOptions()
) -> str:
    """sha256 over everything a document's findings depend on.

    Full content hashes, not size+mtime: hashing 20 page PNGs takes milliseconds next to
    seconds of OCR each (bench/bench_batch.py), and copies or touched files must not
    change the verdict. Missing files hash as absent so a broken document still gets a
    stable key.
    """
    digest = hashlib.sha256()

    def add(tag: str, data: bytes) -> None:
        digest.update(f"{tag}:{len(data)}:".encode())
        digest.update(data)

    add("tool", __version__.encode())
    add("engine", engine_token.encode())
    add("check", repr(options.triage).encode())
    for tag, path in [("transcript", doc.transcript), *(("lexicon", p) for p in (*lexicons, doc.lexicon))]:
        if path is not None:
            _add_file(digest, tag, path)
    for scan in doc.scans:
        _add_file(digest, f"scan {scan.name}", scan)
    return digest.hexdigest()


def _add_file(digest: Any, tag: str, path: Path) -> None:
    files = sorted(p for p in path.iterdir() if p.is_file()) if path.is_dir() else [path]
    for f in files:
        digest.update(f"{tag}|{f.name}|".encode())
        try:
            with f.open("rb") as fh:
                for chunk in iter(lambda: fh.read(1 << 20), b""):
                    digest.update(chunk)
        except OSError:
            digest.update(b"<unreadable>")


# --------------------------------------------------------------------------- summary


def read_summary(path: Path) -> dict[str, Outcome]:
    """The latest line per document of an existing summary; torn or foreign lines skipped."""
    out: dict[str, Outcome] = {}
    if not path.exists():
        return out
    with path.open("r", encoding="utf-8", errors="replace") as fh:
        for line in fh:
            try:
                data = json.loads(line)
                outcome = Outcome.from_dict(data)
            except (json.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError):
                continue
            out[outcome.document] = outcome
    return out


class _SummaryLog:
    """Appends complete, fsynced lines: a killed run leaves only whole lines behind."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fh: io.TextIOWrapper | None = None

    def append(self, outcome: Outcome) -> None:
        if self._fh is None:
            self._fh = self.path.open("a", encoding="utf-8")
            if self._fh.tell() and not self._ends_with_newline():
                self._fh.write("\n")  # a torn last line from a crash stays on its own line
        self._fh.write(json.dumps(outcome.to_dict(), ensure_ascii=False) + "\n")
        self._fh.flush()
        os.fsync(self._fh.fileno())

    def _ends_with_newline(self) -> bool:
        with self.path.open("rb") as fh:
            fh.seek(-1, os.SEEK_END)
            return fh.read(1) == b"\n"

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None


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
) -> BatchResult:
    """Check ``documents`` into ``out_dir``; see the module docstring for the contract.

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
    if options.page_timeout is not None and hasattr(engine, "with_timeout"):
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

    log = _SummaryLog(summary_path)
    runner = _Runner(out_dir, engine, executor, cache, options, log, progress, on_document, len(todo))
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
        log: _SummaryLog,
        progress: Progress,
        on_document: Callable[[Outcome, int, int], None],
        total_docs: int,
    ) -> None:
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
        for future in stuck:
            job, refs = self.pending.pop(future)
            future.cancel()
            if job.failure is None:
                self._fail(
                    job, f"{_pages_label(refs)}: timed out after {self.options.page_timeout * len(refs):g} s"
                )  # type: ignore[operator]
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
            from ocr_fix.report.check_json import render

            target = self.out_dir / job.doc.id / FINDINGS
            target.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(target, render(result))
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
