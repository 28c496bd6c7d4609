"""Tesseract as the OCR engine: preprocessing, the Tesseract run, TSV parsing.

Tesseract runs as a subprocess, one process for a page or a few pages of a document
(:data:`~ocr_fix.ocr.scheduler.MAX_PAGES_PER_PROCESS`). Its binary, environment and
timeout are arguments of each call, never process-wide state: the environment is this
process's with ``OMP_THREAD_LIMIT=1`` unless the user set it (parallelism comes from the
pool of workers; OpenMP threads inside each Tesseract only fight over the same cores).
Failures are told apart by exception type, never by message text.

Every Tesseract this process runs is registered until it has been reaped, with the temp
directory (``ocr-fix-*``) that holds every file it reads and writes, so :func:`stop_all`
(Ctrl-C, SIGTERM, in the parent and in OCR workers) can kill it and remove its files
even when it runs in another thread. That directory is made inside the run's own
(the directory of its decoded pages) when the run has one: a worker stopped at any
instant, or killed outright, leaves its files there, and the run removes that directory
once its workers are reaped.

Word boxes are reported in the pixel space of the page image as given: each box corner
is rotated back through the deskew angle, the upscale is undone and the quarter turn
reversed, then the box is the corners' bounding rectangle (at the largest skew deskew
handles, 10 degrees, that widens a word box by about a sixth of its height).

A page is read once the cheap way; when that reading went wrong by its own measures,
:mod:`ocr_fix.readings` tries it turned (OSD), restored, and with Tesseract's defaults,
and keeps the best. What was done is on the :class:`Page` (rotation, skew, redactions,
variant) and so in the cache and the JSON.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import shutil
import subprocess
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from functools import lru_cache
from typing import TYPE_CHECKING, Any, ClassVar

import cv2
import numpy as np
from pytesseract.pytesseract import osd_to_dict

from ocr_fix.errors import OcrFailed, OcrFixError, TesseractMissing
from ocr_fix.fileio import remove_scratch, scratch_dir
from ocr_fix.model import BBox, Page, PageRef, Word
from ocr_fix.ocr.engine import Capabilities, OcrEngine
from ocr_fix.readings import confirmed_rotation, read_page
from ocr_fix.scans import DecodedPages, Prepared, Preprocess, map_point_back, prepare, read_page_image

if TYPE_CHECKING:
    from ocr_fix.ocr.cache import OcrCache
    from ocr_fix.ocr.reread import LineReader

TESSERACT = "tesseract"
#: Default page timeout: 10 s per megapixel Tesseract reads, at least 120 s. A typed US
#: letter page at 300 dpi (8.4 Mpx) takes 1-3 s on an idle core and was measured at 25 s
#: on a 2-core machine running 16 jobs: the default is ~10x that worst case, so it only
#: ends a Tesseract that hangs. ``--page-timeout`` overrides it.
TIMEOUT_PER_MPX = 10.0
MIN_TIMEOUT = 120.0
INSTALL_HINT = "sudo apt-get install tesseract-ocr tesseract-ocr-eng"
#: Bump when this module's output for the same image and settings changes.
ENGINE_REVISION = 2
#: Bump when preprocessing or the choice of readings (scans.py, pagefix.py,
#: orientation.py, readings.py) changes what a page reads as; part of the cache key.
PREPROCESS_VERSION = 7
#: Characters no typewriter types; Tesseract's language model likes to produce them.
TYPEWRITER_CONFIG = "tessedit_char_blacklist=\u201c\u201d\u2018\u2019\u2014\u2013"


@dataclass(frozen=True, slots=True)
class OcrSettings:
    """Tesseract settings. Defaults were chosen by measurement (bench/bench_ocr.py; CER on
    the 20 bundled pages / 8 real EHRI typewritten pages, preprocessing on): psm 4
    ("one column of text of variable sizes") 1.82 % / 8.35 %; psm 3 (Tesseract's default,
    which splits letterheads and tabulated lines into columns) 1.83 / 9.39; psm 6
    2.39 / 13.04. ``preserve_interword_spaces=1`` changed nothing (whitespace is folded)
    and is left off. Typewriters have no typographic
    quotes or dashes, so Tesseract is kept from "seeing" them (:data:`TYPEWRITER_CONFIG`)."""

    lang: str = "eng"
    psm: int = 4
    oem: int = 1  # LSTM only
    dpi: int = 300
    preprocess: Preprocess = field(default_factory=Preprocess)
    config: str = TYPEWRITER_CONFIG  # "-c name=value" settings, space separated: "a=1 b=2"
    timeout: float | None = None  # seconds per page (None: default_timeout); not in the cache token

    def token_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("timeout")
        return d


# --- Tesseract discovery -------------------------------------------------------------


@lru_cache(maxsize=4)
def _version(binary: str) -> str:
    path = shutil.which(binary)
    if path is None:
        raise TesseractMissing(f"tesseract is not installed; install it with: {INSTALL_HINT}")
    try:
        out = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise TesseractMissing(
            f"tesseract does not run ({type(exc).__name__}); reinstall it with: {INSTALL_HINT}"
        ) from None
    text = (out.stdout or out.stderr).strip()
    if out.returncode != 0 or not text:
        raise TesseractMissing(
            f"tesseract does not run (exit {out.returncode}); reinstall it with: {INSTALL_HINT}"
        )
    return text.splitlines()[0].strip()


@lru_cache(maxsize=4)
def _languages(binary: str) -> frozenset[str]:
    out = subprocess.run([binary, "--list-langs"], capture_output=True, text=True, timeout=30, check=False)
    # First line is a header ("List of available languages in ...").
    return frozenset(line.strip() for line in out.stdout.splitlines()[1:] if line.strip())


def debian_package(lang: str) -> str:
    """Debian's package for a Tesseract language: ``chi_sim`` -> ``tesseract-ocr-chi-sim``."""
    return "tesseract-ocr-" + lang.lower().replace("_", "-")


def check_tesseract(lang: str = "eng", binary: str = TESSERACT) -> str:
    """Return Tesseract's version line; raise :class:`TesseractMissing` if the binary or
    one of the ``+``-joined languages is not installed."""
    version = _version(binary)
    have = _languages(binary)
    for code in lang.split("+"):
        if code and code not in have:
            raise TesseractMissing(
                f"Tesseract language '{code}' is not installed; install it with: "
                f"sudo apt-get install {debian_package(code)}"
            )
    return version


# --- the engine ----------------------------------------------------------------------


@dataclass(frozen=True)
class TesseractEngine(OcrEngine):
    """Page image -> :class:`Page` through preprocessing and the Tesseract CLI."""

    settings: OcrSettings = field(default_factory=OcrSettings)
    binary: str = TESSERACT
    version: str = ""
    #: Where the run keeps the pages decoded (:class:`~ocr_fix.scans.DecodedPages`);
    #: not part of what a page reads as (the same pixels either way).
    decoded: DecodedPages | None = field(default=None, compare=False)

    #: Tesseract can do everything the interface names.
    CAPABILITIES: ClassVar[Capabilities] = Capabilities(
        many_pages=True,
        timeout=True,
        line_rereading=True,
        glyph_alternatives=True,
        layout_retry=True,
        page_images=True,
    )

    @property
    def capabilities(self) -> Capabilities:
        return self.CAPABILITIES

    def __post_init__(self) -> None:
        if not self.version:
            object.__setattr__(self, "version", check_tesseract(self.settings.lang, self.binary))

    def cache_token(self) -> str:
        blob = json.dumps(
            {
                "engine": "tesseract",
                "version": self.version,
                "revision": ENGINE_REVISION,
                "preprocess_version": PREPROCESS_VERSION,
                "settings": self.settings.token_dict(),
            },
            sort_keys=True,
        )
        return hashlib.sha256(blob.encode()).hexdigest()[:32]

    def with_timeout(self, timeout: float | None) -> TesseractEngine:
        return replace(self, settings=replace(self.settings, timeout=timeout))

    def with_decoded_pages(self, decoded: DecodedPages | None) -> TesseractEngine:
        return replace(self, decoded=decoded)

    def load(self, ref: PageRef, mapped: bool = False) -> np.ndarray:
        """The page's pixels as read (:func:`~ocr_fix.scans.load_image` at the settings'
        resolution), through the run's decoded pages if it keeps them (``mapped``: as a
        read-only memory map, for cutting out a few lines; see
        :meth:`~ocr_fix.scans.DecodedPages.load`)."""
        return read_page_image(ref, self.settings.dpi, self.decoded, mapped)

    def line_reader(self, cache: OcrCache | None) -> LineReader:
        """Second readings with this engine in single-line mode, cached beside page OCR."""
        from ocr_fix.ocr.reread import TesseractLineReader

        return TesseractLineReader(self, cache)

    def layout_retry(self) -> TesseractEngine | None:
        """Automatic layout analysis (psm 3) when this engine reads in the default
        single-column mode; None in any other mode (the user asked for it)."""
        if self.settings.psm != OcrSettings().psm:
            return None
        return replace(self, settings=replace(self.settings, psm=3))

    def recognise(self, ref: PageRef) -> Page:
        original = self.load(ref)
        first, osd_done = self._first(original)
        words = parse_tsv(
            self.run(first.image, ref, "tsv"), first, original.shape[:2], f"page {ref.number} ({ref.label})"
        )
        return self._finish(ref, original, first, words, osd_done)

    def _first(self, original: np.ndarray) -> tuple[Prepared, bool]:
        """The cheap preparation of a page, turned the way OSD confirms when the
        ink-shape tests think it is not upright; and whether OSD was asked."""
        pre = self.settings.preprocess
        prepared = prepare(original, pre)
        if not pre.orient or prepared.guess == 0:
            return prepared, False
        rotation = confirmed_rotation(prepared, self.osd)
        if rotation is not None:
            prepared = prepare(original, pre, rotation=rotation)
        return prepared, True

    def _finish(
        self, ref: PageRef, original: np.ndarray, first: Prepared, words: tuple[Word, ...], osd_done: bool
    ) -> Page:
        """The page from its first reading, or from a better one when that went wrong
        (:func:`ocr_fix.readings.read_page`)."""
        shape = original.shape[:2]
        what = f"page {ref.number} ({ref.label})"

        def read(prepared: Prepared, plain: bool) -> tuple[Word, ...]:
            engine = self.plain() if plain else self
            return parse_tsv(engine.run(prepared.image, ref, "tsv"), prepared, shape, what)

        reading = read_page(
            original, self.settings.preprocess, first, words, read, self.osd, self._known(), osd_done
        )
        p = reading.prepared
        return Page(
            ref=ref,
            width=int(shape[1]),
            height=int(shape[0]),
            words=reading.words,
            rotation=p.rotation,
            skew=round(p.angle, 2),
            # The bars are measured on the page, whichever reading is kept (the plain one
            # masks nothing, yet its words are as withheld under them).
            redactions=tuple(BBox(*r) for r in (p.redactions or first.redactions)),
            variant=reading.variant,
        )

    def _known(self) -> Callable[[str], bool] | None:
        """The dictionary test for reading measures; None when the language is not English."""
        if self.settings.lang.split("+")[0] != "eng":
            return None
        from ocr_fix.lexicon import Dictionary

        return Dictionary.english().__contains__

    def plain(self) -> TesseractEngine:
        """This engine with Tesseract's own defaults (layout analysis, no character limits)."""
        return replace(self, settings=replace(self.settings, psm=3, config=""))

    def osd(self, image: np.ndarray) -> tuple[int, float] | None:
        """Tesseract's orientation detection on an image: (counter-clockwise degrees to
        turn it upright, confidence), or None when it cannot tell (too little text, no
        ``osd`` language data, a failure)."""
        with _workdir(self.decoded) as tmp:
            path = os.path.join(tmp, "page.bmp")
            if not cv2.imwrite(path, image):
                return None
            base = os.path.join(tmp, "out")
            timeout = self.settings.timeout if self.settings.timeout is not None else default_timeout([image])
            try:
                run_tesseract(
                    [self.binary, path, base, "-l", "osd", "--psm", "0"], "orientation", timeout, workdir=tmp
                )
                with open(f"{base}.osd", encoding="utf-8", errors="replace") as fh:
                    return parse_osd(fh.read())
            except (OcrFailed, OSError):
                return None

    def recognise_many(self, refs: Sequence[PageRef]) -> list[Page | OcrFixError]:
        """Several pages through one Tesseract process (see
        :data:`~ocr_fix.ocr.scheduler.MAX_PAGES_PER_PROCESS`): each page's result or its
        failure, in order. Words are the same as :meth:`recognise` gives page by page.

        A page that cannot be read fails alone. When the shared Tesseract run fails
        (a crash, or the pages' summed timeout), every page is read again on its own,
        so the failure names its page and the other pages still count. A page whose
        first reading went wrong is read again on its own (:mod:`ocr_fix.readings`).
        """
        out: list[Page | OcrFixError | None] = [None] * len(refs)
        ready: list[tuple[int, np.ndarray, Prepared, bool]] = []
        for i, ref in enumerate(refs):
            try:
                original = self.load(ref)
                ready.append((i, original, *self._first(original)))
            except OcrFixError as exc:
                out[i] = exc
        tsvs: list[str | None] = [None] * len(ready)
        if len(ready) > 1:
            first, last = refs[ready[0][0]], refs[ready[-1][0]]
            timeout = None if self.settings.timeout is None else self.settings.timeout * len(ready)
            try:
                tsv = self.run_many(
                    [p.image for _, _, p, _ in ready],
                    "tsv",
                    f"pages {first.number}-{last.number} ({first.label} to {last.label})",
                    timeout,
                )
            except OcrFixError:
                pass
            else:
                tsvs = list(split_tsv_pages(tsv, len(ready)))
        for (i, original, prepared, osd_done), text in zip(ready, tsvs, strict=True):
            what = f"page {refs[i].number} ({refs[i].label})"
            try:
                if text is None:
                    text = self.run(prepared.image, refs[i], "tsv")
                words = parse_tsv(text, prepared, original.shape[:2], what)
                out[i] = self._finish(refs[i], original, prepared, words, osd_done)
            except OcrFixError as exc:  # malformed output or a failed run fails its page alone
                out[i] = exc
        return [r for r in out if r is not None]

    def run(self, image: np.ndarray, ref: PageRef, output: str) -> str:
        """Run Tesseract on an image; ``output`` is ``tsv``, ``hocr`` or ``txt``. Returns
        what Tesseract wrote.

        The image goes to Tesseract as an uncompressed BMP file: measured over the
        bundled pages, Tesseract reads that ~5 % faster than a PNG, and writing it costs
        a few milliseconds.
        """
        return self.run_many([image], output, f"page {ref.number} ({ref.label})")

    def run_many(
        self, images: Sequence[np.ndarray], output: str, what: str, timeout: float | None = None
    ) -> str:
        """One Tesseract process over several images, each read as a page of its own
        (Tesseract's list-file input): the output holds one page per image, in order.

        Loading Tesseract and its model costs ~70 ms per process, more than reading one
        typed line does, so small images (the second reading's line crops) share a
        process; the readings are the same as one process per image. ``what`` names
        the work in error messages; ``timeout`` replaces the per-page one of the settings,
        and without either the run gets :func:`default_timeout`.
        """
        s = self.settings
        config = ["--psm", str(s.psm), "--oem", str(s.oem)]
        for item in s.config.split():
            config += ["-c", item]
        if output == "tsv":
            config = ["-c", "tessedit_create_tsv=1", *config]
        elif output == "hocr":
            config = ["-c", "tessedit_create_hocr=1", *config, "hocr"]
        elif output == "txt":
            config.append("txt")
        else:
            raise ValueError(f"unknown Tesseract output {output!r}")
        with _workdir(self.decoded) as tmp:
            paths = [os.path.join(tmp, f"image{i:05d}.bmp") for i in range(len(images))]
            for path, image in zip(paths, images, strict=True):
                if not cv2.imwrite(path, image):
                    raise OcrFailed(f"cannot write {what} for Tesseract")
            source = paths[0]
            if len(paths) > 1:
                source = os.path.join(tmp, "images.txt")
                with open(source, "w", encoding="utf-8") as fh:
                    fh.write("\n".join(paths) + "\n")
            base = os.path.join(tmp, "out")
            command = [self.binary, source, base, "-l", s.lang, *config]
            if timeout is None:
                timeout = (
                    self.settings.timeout if self.settings.timeout is not None else default_timeout(images)
                )
            run_tesseract(command, what, timeout, workdir=tmp)
            try:
                with open(f"{base}.{output}", encoding="utf-8", errors="replace") as fh:
                    return fh.read()
            except OSError:
                raise OcrFailed(f"Tesseract wrote no {output} for {what}") from None


def tesseract_env() -> dict[str, str]:
    """The environment of one Tesseract call: this process's, with one OpenMP thread
    unless the user chose otherwise. Built per call; ``os.environ`` is never changed."""
    env = dict(os.environ)
    env.setdefault("OMP_THREAD_LIMIT", "1")
    return env


def default_timeout(images: Sequence[np.ndarray]) -> float:
    """Seconds a Tesseract run over ``images`` may take when no ``--page-timeout`` is
    given: :data:`TIMEOUT_PER_MPX` per megapixel of each image, at least
    :data:`MIN_TIMEOUT` for each."""
    return sum(max(MIN_TIMEOUT, TIMEOUT_PER_MPX * image.shape[0] * image.shape[1] / 1e6) for image in images)


#: Reentrant: an OCR worker's SIGTERM handler (:func:`stop_all`) runs in the thread it
#: interrupts, which may hold it (a plain lock deadlocked the worker until the parent
#: killed it outright, 10 s later, leaving its files).
_live_lock = threading.RLock()
#: Tesseract processes this process started and has not reaped yet, with their temp
#: directories: what :func:`stop_all` kills and removes. Process-wide because child
#: processes and temp files are.
_live: dict[subprocess.Popen[bytes], str | None] = {}


@contextlib.contextmanager
def _workdir(decoded: DecodedPages | None) -> Iterator[str]:
    """A temp directory for one Tesseract run, inside the run's directory (``decoded``'s)
    when it has one here (a Dask worker on another machine has not), registered so that
    :func:`stop_all` removes it even when the worker is stopped before Tesseract starts."""
    parent = str(decoded.directory) if decoded is not None and decoded.directory.is_dir() else None
    with scratch_dir("ocr-fix-", parent) as tmp:
        yield tmp


def stop_all() -> None:
    """Kill every Tesseract this process is running and remove its temp directories
    (:func:`~ocr_fix.fileio.remove_scratch`). Called on Ctrl-C and SIGTERM (in the parent
    and from an OCR worker's signal handler); safe to call more than once."""
    with _live_lock:
        live = list(_live.items())
    for proc, workdir in live:
        try:
            proc.kill()
            proc.wait(timeout=5)
        except (OSError, subprocess.TimeoutExpired):
            pass
        if workdir is not None:
            shutil.rmtree(workdir, ignore_errors=True)
    remove_scratch()


def run_tesseract(
    command: Sequence[str], what: str, timeout: float | None, workdir: str | None = None
) -> None:
    """Run one Tesseract ``command`` (binary first) with :func:`tesseract_env` and a real
    ``timeout``; its failures as :class:`OcrFailed` naming ``what``, a missing binary as
    :class:`TesseractMissing`. The process is killed on the timeout and on any
    interruption, and registered (with ``workdir``, its files) for :func:`stop_all`."""
    try:
        proc = subprocess.Popen(
            list(command),
            env=tesseract_env(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
    except FileNotFoundError:
        raise TesseractMissing(f"tesseract is not installed; install it with: {INSTALL_HINT}") from None
    except PermissionError:
        raise TesseractMissing(f"tesseract cannot be run; reinstall it with: {INSTALL_HINT}") from None
    with _live_lock:
        _live[proc] = workdir
    try:
        try:
            _, err = proc.communicate(timeout=timeout or None)
        except BaseException:  # the timeout, Ctrl-C, SIGTERM: never leave Tesseract running
            proc.kill()
            proc.wait()
            raise
    except subprocess.TimeoutExpired:
        raise OcrFailed(f"Tesseract timed out after {timeout:g} s on {what}") from None
    finally:
        with _live_lock:
            _live.pop(proc, None)
    if proc.returncode != 0:
        tail = " ".join(err.decode("utf-8", "replace").split())[-200:]
        raise OcrFailed(f"Tesseract failed on {what}, exit {proc.returncode}: {tail}")


def parse_tsv(tsv: str, prepared: Prepared, shape: tuple[int, int], what: str = "a page") -> tuple[Word, ...]:
    """Words of Tesseract's TSV output, lines numbered 1.. in reading order, boxes mapped
    back to the original image (``shape`` = its height, width). A word row with a field
    that is not a number is :class:`OcrFailed` for ``what``."""
    height, width = shape
    pshape = prepared.image.shape[:2]
    words: list[Word] = []
    line_ids: dict[tuple[int, int, int], int] = {}
    for row in tsv.splitlines()[1:]:
        cols = row.split("\t")
        if len(cols) < 12 or cols[0] != "5":
            continue
        text = cols[11].strip()
        if not text:
            continue
        try:
            block, par, line = int(cols[2]), int(cols[3]), int(cols[4])
            left, top, w, h = (int(c) for c in cols[6:10])
            conf = float(cols[10])
        except ValueError:
            raise OcrFailed(f"Tesseract wrote a malformed TSV row for {what}: {row[:80]!r}") from None
        if not math.isfinite(conf):
            raise OcrFailed(f"Tesseract wrote a malformed TSV row for {what}: {row[:80]!r}")
        number = line_ids.setdefault((block, par, line), len(line_ids) + 1)
        box = _map_box(left, top, left + w, top + h, prepared, pshape, width, height)
        words.append(Word(text=text, box=box, conf=round(conf, 2), line=number, block=block, par=par))
    return tuple(words)


def parse_osd(text: str) -> tuple[int, float] | None:
    """(counter-clockwise degrees to turn the image upright, confidence) from Tesseract's
    OSD output, whose ``Rotate:`` is clockwise; None when a field is missing.

    pytesseract's own OSD parser reads the text (Tesseract itself is run by
    :func:`run_tesseract`, with binary and environment passed per call)."""
    fields = osd_to_dict(text)
    if "rotate" not in fields or "orientation_conf" not in fields:
        return None
    return (360 - int(fields["rotate"])) % 360, float(fields["orientation_conf"])


def split_tsv_pages(tsv: str, pages: int) -> list[str]:
    """The TSV of a multi-image Tesseract run as one TSV per image (``page_num`` counts
    the images from 1), each with the header; an image with no rows gets the header only."""
    lines = tsv.splitlines()
    if not lines:
        return [""] * pages
    header, rows = lines[0], lines[1:]
    groups: list[list[str]] = [[header] for _ in range(pages)]
    for row in rows:
        number = row.split("\t", 2)[1] if "\t" in row else ""
        if number.isdigit() and 1 <= int(number) <= pages:
            groups[int(number) - 1].append(row)
    return ["\n".join(g) + "\n" for g in groups]


def _map_box(
    x0: int, y0: int, x1: int, y1: int, prepared: Prepared, pshape: tuple[int, int], width: int, height: int
) -> BBox:
    corners = [map_point_back(x, y, prepared, pshape) for x, y in ((x0, y0), (x1, y0), (x0, y1), (x1, y1))]
    xs = [c[0] for c in corners]
    ys = [c[1] for c in corners]
    bx0 = min(max(0, math.floor(min(xs))), width)
    by0 = min(max(0, math.floor(min(ys))), height)
    bx1 = min(max(bx0, math.ceil(max(xs))), width)
    by1 = min(max(by0, math.ceil(max(ys))), height)
    return BBox(bx0, by0, bx1, by1)
