"""OCR engine plumbing: page JSON, cache, ocr_pages ordering/errors, TSV parsing, CLI."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image
from typer.testing import CliRunner

from ocr_fix.cli import app
from ocr_fix.errors import BadInput, InputNotFound, OcrFailed, TesseractMissing
from ocr_fix.model import BBox, Page, PageRef, Word
from ocr_fix.ocr.cache import OcrCache
from ocr_fix.ocr.formats import page_from_json, page_hocr, page_to_json, page_tsv
from ocr_fix.ocr.scheduler import ocr_page_task, ocr_pages
from ocr_fix.ocr.tesseract import TesseractEngine, check_tesseract, debian_package, parse_tsv
from ocr_fix.scans import Prepared, expand_scans
from tests.conftest import ROOT
from tests.fakes import FakeEngine

runner = CliRunner()
HAVE_TESSERACT = shutil.which("tesseract") is not None


class FailingEngine(FakeEngine):
    """Fails on one named page with a given error (module level: must pickle)."""

    def __init__(self, texts: dict[str, str], bad: str, error: str) -> None:
        super().__init__(texts)
        self.bad = bad
        self.error = error

    def recognise(self, ref: PageRef) -> Page:
        if ref.path.name == self.bad:
            if self.error == "missing":
                raise InputNotFound(ref.path)
            raise OcrFailed(f"Tesseract failed on page {ref.number} ({ref.label})")
        return super().recognise(ref)


def _pages(tmp_path: Path, n: int) -> tuple[list[PageRef], dict[str, str]]:
    texts = {}
    for i in range(1, n + 1):
        Image.new("L", (20, 20), i).save(tmp_path / f"{i:02d}.png")
        texts[f"{i:02d}.png"] = f"page {i} first line\nsecond line of {i}"
    return expand_scans([tmp_path]), texts


words_st = st.builds(
    Word,
    text=st.text(min_size=1, max_size=12),
    box=st.builds(
        BBox, st.integers(0, 5000), st.integers(0, 5000), st.integers(0, 5000), st.integers(0, 5000)
    ),
    conf=st.floats(-1, 100, allow_nan=False).map(lambda f: round(f, 2)),
    line=st.integers(1, 200),
    block=st.integers(0, 50),
    par=st.integers(0, 50),
)
pages_st = st.builds(
    Page,
    ref=st.builds(
        PageRef,
        path=st.text(
            st.characters(blacklist_categories=("Cs",), blacklist_characters="\0"), min_size=1, max_size=20
        ).map(Path),
        frame=st.integers(0, 99),
        number=st.integers(1, 999),
        multi=st.booleans(),
    ),
    width=st.integers(1, 10000),
    height=st.integers(1, 10000),
    words=st.lists(words_st, max_size=20).map(tuple),
)


@settings(max_examples=150, deadline=None)
@given(pages_st)
def test_page_json_round_trip(page):
    data = json.loads(json.dumps(page_to_json(page)))
    assert page_from_json(data) == page


@pytest.mark.parametrize(
    "bad",
    [
        {},
        {"version": 99},
        {"version": 1, "ref": {}, "width": 1, "height": 1, "words": []},
        {
            "version": 1,
            "ref": {"path": "a", "frame": 0, "number": 1, "multi": False},
            "width": 1,
            "height": 1,
            "words": [["w", 1, 2]],
        },
    ],
)
def test_page_from_json_rejects_malformed(bad):
    with pytest.raises(BadInput):
        page_from_json(bad)


def test_cache_hit_skips_engine_and_keeps_order(tmp_path):
    refs, texts = _pages(tmp_path, 3)
    engine = FakeEngine(texts)
    cache = OcrCache(tmp_path / "cache")
    seen: list[tuple[int, int]] = []
    first = ocr_pages(refs, engine, jobs=1, cache=cache, progress=lambda d, t: seen.append((d, t)))
    assert engine.calls == 3 and seen == [(1, 3), (2, 3), (3, 3)]
    again = ocr_pages(refs, engine, jobs=1, cache=cache)
    assert engine.calls == 3
    assert again == first and [p.number for p in again] == [1, 2, 3]
    assert again[1].text() == "page 2 first line\nsecond line of 2"


def test_cache_key_follows_content_and_engine(tmp_path):
    refs, texts = _pages(tmp_path, 2)
    cache = OcrCache(tmp_path / "cache")
    engine = FakeEngine(texts)
    ocr_pages(refs[:1], engine, jobs=1, cache=cache)
    copy = tmp_path / "copy" / "renamed.png"
    copy.parent.mkdir()
    shutil.copy(refs[0].path, copy)
    hit = cache.get(expand_scans([copy])[0], engine)
    assert hit is not None and hit.ref.path == copy  # same bytes elsewhere: hit, with its own ref

    class OtherVersion(FakeEngine):
        def cache_token(self) -> str:
            return "fake-2"

    assert cache.get(refs[0], OtherVersion(texts)) is None
    assert cache.get(refs[1], engine) is None


def test_corrupt_cache_entry_is_a_miss(tmp_path):
    refs, texts = _pages(tmp_path, 1)
    cache = OcrCache(tmp_path / "cache")
    engine = FakeEngine(texts)
    ocr_pages(refs, engine, jobs=1, cache=cache)
    [entry] = list((tmp_path / "cache").rglob("*.json"))
    entry.write_text("{not json")
    ocr_pages(refs, engine, jobs=1, cache=cache)
    assert engine.calls == 2
    assert json.loads(entry.read_text())["version"] == 1  # rewritten whole


def test_process_pool_results_in_input_order(tmp_path):
    refs, texts = _pages(tmp_path, 4)
    pages = ocr_pages(refs, FakeEngine(texts), jobs=2, cache=OcrCache(tmp_path / "c"))
    assert [p.ref for p in pages] == refs
    assert [p.text().split()[1] for p in pages] == ["1", "2", "3", "4"]
    assert len(list((tmp_path / "c").rglob("*.json"))) == 4


@pytest.mark.parametrize("jobs", [1, 2])
@pytest.mark.parametrize(
    "error, cls, fragment",
    [
        ("crash", OcrFailed, "on page 2 (02.png)"),
        ("missing", InputNotFound, "02.png: no such file or directory"),
    ],
)
def test_first_error_raised_with_its_class_and_message(tmp_path, jobs, error, cls, fragment):
    refs, texts = _pages(tmp_path, 3)
    with pytest.raises(cls) as info:
        ocr_pages(refs, FailingEngine(texts, "02.png", error), jobs=jobs)
    assert fragment in str(info.value) and str(info.value).count("no such file") <= 1


def test_ocr_page_task_returns_page_json(tmp_path):
    refs, texts = _pages(tmp_path, 1)
    data = ocr_page_task(refs[0], FakeEngine(texts))
    assert page_from_json(data).text().startswith("page 1")


def test_parse_tsv_lines_in_reading_order_and_boxes_in_original_space():
    tsv = "\n".join(
        [
            "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext",
            "1\t1\t0\t0\t0\t0\t0\t0\t2000\t2000\t-1\t",
            "5\t1\t1\t1\t1\t1\t100\t100\t200\t40\t96.5\tHello",
            "5\t1\t1\t1\t1\t2\t320\t100\t100\t40\t90\tworld",
            "5\t1\t1\t1\t1\t3\t450\t100\t10\t40\t95\t ",
            "5\t1\t2\t1\t1\t1\t100\t400\t60\t40\t80\tNext",
        ]
    )
    prepared = Prepared(image=np.zeros((2000, 2000), np.uint8), scale=2.0, angle=0.0)
    words = parse_tsv(tsv, prepared, (1000, 1000))
    assert [(w.text, w.line, w.block) for w in words] == [("Hello", 1, 1), ("world", 1, 1), ("Next", 2, 2)]
    assert words[0].box == BBox(50, 50, 150, 70) and words[0].conf == 96.5


def test_tsv_and_hocr_writers():
    ref = PageRef(Path("03.png"), 0, 3)
    page = Page(
        ref,
        100,
        80,
        (
            Word("a&b", BBox(1, 2, 10, 12), 91.0, 1, 1, 1),
            Word("c", BBox(12, 2, 20, 12), 80.0, 1, 1, 1),
            Word("d", BBox(1, 20, 9, 30), 70.0, 2, 1, 1),
        ),
    )
    rows = page_tsv(page).splitlines()
    assert rows[1].split("\t") == ["5", "3", "1", "1", "1", "1", "1", "2", "9", "10", "91", "a&b"]
    from lxml import etree

    tree = etree.fromstring(page_hocr(page).encode())
    ns = {"h": "http://www.w3.org/1999/xhtml"}
    lines = tree.findall(".//h:span[@class='ocr_line']", ns)
    assert [ln.get("title") for ln in lines] == ["bbox 1 2 20 12", "bbox 1 20 9 30"]
    assert [w.text for w in tree.findall(".//h:span[@class='ocrx_word']", ns)] == ["a&b", "c", "d"]


def test_missing_tesseract_binary(tmp_path):
    with pytest.raises(TesseractMissing, match="apt-get install tesseract-ocr"):
        TesseractEngine(binary=str(tmp_path / "no-tesseract"))


def test_debian_language_package_names():
    assert debian_package("chi_sim") == "tesseract-ocr-chi-sim"
    assert debian_package("deu") == "tesseract-ocr-deu"


@pytest.mark.skipif(not HAVE_TESSERACT, reason="tesseract not installed")
def test_missing_language_names_package(tmp_path):
    with pytest.raises(TesseractMissing, match="tesseract-ocr-xqz"):
        check_tesseract("eng+xqz")
    Image.new("L", (20, 20), 255).save(tmp_path / "p.png")
    result = runner.invoke(app, ["ocr", str(tmp_path / "p.png"), "--lang", "xqz", "--no-cache"])
    assert result.exit_code == 6 and "sudo apt-get install tesseract-ocr-xqz" in result.stderr


@pytest.mark.tesseract
@pytest.mark.skipif(not HAVE_TESSERACT, reason="tesseract not installed")
@pytest.mark.slow
def test_bundled_page_ocr_cer_and_cli_outputs(tmp_path):
    from ocr_fix.metrics import cer

    scan = ROOT / "scans" / "psis-400-23" / "07.png"
    gt = (ROOT / "golden" / "psis-400-23" / "07.gt.txt").read_text(encoding="utf-8")
    out = tmp_path / "out"
    result = runner.invoke(
        app, ["ocr", str(scan), "-o", str(out), "-f", "tsv", "--cache-dir", str(tmp_path / "c")]
    )
    assert result.exit_code == 0, result.output
    rows = (out / "07.tsv").read_text(encoding="utf-8").splitlines()[1:]
    text = "\n".join(
        " ".join(r.split("\t")[11] for r in rows if r.split("\t")[4] == str(n))
        for n in sorted({int(r.split("\t")[4]) for r in rows})
    )
    assert cer(gt, text) < 0.05
    boxes = [list(map(int, r.split("\t")[6:10])) for r in rows]
    assert all(x >= 0 and y >= 0 and x + w <= 2550 and y + h <= 3300 for x, y, w, h in boxes)
    # Second run is served from the cache and prints the same text.
    printed = runner.invoke(app, ["ocr", str(scan), "--cache-dir", str(tmp_path / "c")])
    assert printed.exit_code == 0 and cer(gt, printed.stdout) < 0.05


def _fake_tesseract(tmp_path: Path, body: str) -> str:
    """A stand-in tesseract binary: answers --version/--list-langs, runs ``body`` otherwise."""
    script = tmp_path / "fake-tesseract"
    script.write_text(
        "#!/bin/sh\n"
        'case "$1" in\n'
        '  --version) echo "tesseract 9.9.9-fake"; exit 0;;\n'
        '  --list-langs) echo "List of available languages (1):"; echo eng; exit 0;;\n'
        "esac\n" + body + "\n"
    )
    script.chmod(0o755)
    return str(script)


def test_two_threads_with_different_binaries_never_cross(tmp_path):
    """Binary and environment are arguments of each call: engines naming different
    binaries, run side by side in threads, each get their own binary's output, and
    Tesseract sees OMP_THREAD_LIMIT=1 without this process's environment changing."""
    import os
    import threading

    engines = {}
    for name in ("left", "right"):
        folder = tmp_path / name
        folder.mkdir()
        # TSV with one word: the binary's name and the thread limit it was given.
        body = (
            'printf "level\\tpage_num\\tblock_num\\tpar_num\\tline_num\\tword_num\\t'
            "left\\ttop\\twidth\\theight\\tconf\\ttext\\n"
            f'5\\t1\\t1\\t1\\t1\\t1\\t10\\t10\\t20\\t20\\t90\\t{name}-$OMP_THREAD_LIMIT\\n" > "$2.tsv"'
        )
        engines[name] = TesseractEngine(binary=_fake_tesseract(folder, body))
    refs, _ = _pages(tmp_path, 1)
    before = os.environ.get("OMP_THREAD_LIMIT")
    seen: dict[str, list[str]] = {"left": [], "right": []}
    start = threading.Barrier(2)

    def read(name: str) -> None:
        start.wait()
        for _ in range(15):
            seen[name].append(engines[name].recognise(refs[0]).text())

    threads = [threading.Thread(target=read, args=(n,)) for n in engines]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert seen == {"left": ["left-1"] * 15, "right": ["right-1"] * 15}
    assert os.environ.get("OMP_THREAD_LIMIT") == before
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "OMP_THREAD_LIMIT"}
    probe = "import os, ocr_fix.ocr.tesseract, ocr_fix.pipeline; print('OMP_THREAD_LIMIT' in os.environ)"
    out = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"  # importing sets nothing process-wide


def test_tesseract_crash_is_ocr_failed_naming_the_page(tmp_path):
    refs, _ = _pages(tmp_path, 2)
    engine = TesseractEngine(binary=_fake_tesseract(tmp_path, 'echo "Segmentation fault" >&2; exit 139'))
    assert engine.version == "tesseract 9.9.9-fake"
    with pytest.raises(OcrFailed, match=r"page 2 \(02\.png\), exit 139: Segmentation fault"):
        engine.recognise(refs[1])


def test_page_timeout_is_ocr_failed(tmp_path):
    refs, _ = _pages(tmp_path, 1)
    engine = TesseractEngine(binary=_fake_tesseract(tmp_path, "sleep 5"))
    with pytest.raises(OcrFailed, match=r"timed out after 0\.3 s on page 1"):
        ocr_pages(refs, engine, jobs=1, timeout=0.3)


def test_cache_token_changes_with_settings_not_timeout(tmp_path):
    from dataclasses import replace

    from ocr_fix.ocr.tesseract import OcrSettings

    binary = _fake_tesseract(tmp_path, "exit 0")
    base = TesseractEngine(OcrSettings(), binary=binary)
    assert base.cache_token() == base.with_timeout(5.0).cache_token()
    assert base.cache_token() != TesseractEngine(replace(OcrSettings(), psm=6), binary=binary).cache_token()


def test_an_engine_keeping_decoded_pages_reads_the_same_and_caches_the_same(tmp_path):
    """The run's decoded pages travel with the engine (to workers, to the second
    reading) and are no part of what a page reads as."""
    import pickle

    from ocr_fix.scans import decoded_pages, load_image

    refs, _ = _pages(tmp_path, 1)
    base = TesseractEngine(binary=_fake_tesseract(tmp_path, "exit 0"))
    with decoded_pages() as decoded:
        engine = base.with_decoded_pages(decoded)
        assert engine.cache_token() == base.cache_token() and engine == base
        assert engine.with_timeout(5.0).decoded is decoded
        assert engine.line_reader(None).engine.decoded is decoded
        assert pickle.loads(pickle.dumps(engine)).decoded == decoded
        assert np.array_equal(engine.load(refs[0]), load_image(refs[0]))
        assert len(list(decoded.directory.glob("*.npy"))) == 1
        fake = FakeEngine({})
        assert fake.with_decoded_pages(decoded) is fake  # an engine without pixels: unchanged


@pytest.mark.tesseract
@pytest.mark.skipif(not HAVE_TESSERACT, reason="tesseract not installed")
def test_images_sharing_one_tesseract_process_read_as_they_do_alone():
    """run_many (Tesseract's list-file input) must not change any reading: the second
    reading relies on it to save a process start per line."""
    from dataclasses import replace

    import cv2

    from ocr_fix.ocr.reread import parse_hocr_glyphs, parse_hocr_pages

    images = []
    for text in ("Special Envoy Konoye", "H-197715 of 1945", "the Soviet Government."):
        img = np.full((70, 700), 255, np.uint8)
        cv2.putText(img, text, (10, 50), cv2.FONT_HERSHEY_COMPLEX, 1.2, 0, 2)
        images.append(img)
    engine = TesseractEngine()
    single = replace(
        engine,
        settings=replace(
            engine.settings, psm=7, config=engine.settings.config + " lstm_choice_mode=2 hocr_char_boxes=1"
        ),
    )
    alone = [parse_hocr_glyphs(single.run(img, PageRef(Path("x.png"), 0, 1), "hocr")) for img in images]
    together = parse_hocr_pages(single.run_many(images, "hocr", "test lines"), len(images))
    assert together == alone and all(together)


def test_multi_image_tsv_splits_by_page_number():
    from ocr_fix.ocr.tesseract import split_tsv_pages

    head = "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext"
    tsv = "\n".join(
        [
            head,
            "1\t1\t0\t0\t0\t0\t0\t0\t9\t9\t-1\t",
            "5\t1\t1\t1\t1\t1\t0\t0\t4\t4\t90\tone",
            "1\t3\t0\t0\t0\t0\t0\t0\t9\t9\t-1\t",
            "5\t3\t1\t1\t1\t1\t0\t0\t4\t4\t90\tthree",
        ]
    )
    first, second, third = split_tsv_pages(tsv, 3)
    assert first.splitlines()[0] == head and first.splitlines()[-1].endswith("one")
    assert second == head + "\n" and third.splitlines()[-1].endswith("three")
    assert split_tsv_pages("", 2) == ["", ""]


def test_chunks_shrink_to_single_pages_and_only_for_engines_that_share_a_process():
    from ocr_fix.ocr.scheduler import MAX_PAGES_PER_PROCESS, chunk_size
    from tests.fakes import ChunkEngine

    engine = ChunkEngine({})
    sizes, left = [], 20
    while left:
        sizes.append(chunk_size(left, 2, engine))
        left -= sizes[-1]
    assert sizes[0] == MAX_PAGES_PER_PROCESS and sizes[-4:] == [1, 1, 1, 1] and sum(sizes) == 20
    assert chunk_size(100, 2, FakeEngine({})) == 1


def test_ocr_pages_in_shared_tasks_keep_order_and_name_the_failing_page(tmp_path):
    from ocr_fix.ocr.scheduler import pages_task
    from tests.fakes import ChunkEngine

    refs, texts = _pages(tmp_path, 12)
    engine = ChunkEngine(texts)
    pages = ocr_pages(refs, engine, jobs=2)
    assert [p.number for p in pages] == list(range(1, 13))
    assert [w.text for w in pages[6].words][:2] == ["page", "7"]
    payloads = pages_task(refs[:3], ChunkEngine(texts, bad=frozenset({"02.png"})))
    assert [status for status, _ in payloads] == ["ok", "error", "ok"]
    with pytest.raises(OcrFailed, match=r"page 5 \(05\.png\)"):
        ocr_pages(refs, ChunkEngine(texts, bad=frozenset({"05.png"})), jobs=2)


def test_a_failed_shared_tesseract_run_reads_each_page_alone(tmp_path):
    """A crash on the list of pages must not fail them all: each is read again alone."""
    refs, _ = _pages(tmp_path, 3)
    head = (
        "level\\tpage_num\\tblock_num\\tpar_num\\tline_num\\tword_num\\t"
        "left\\ttop\\twidth\\theight\\tconf\\ttext"
    )
    body = (
        'case "$1" in *.txt) echo "Segmentation fault" >&2; exit 139;; esac\n'
        f'printf "{head}\\n5\\t1\\t1\\t1\\t1\\t1\\t1\\t1\\t5\\t5\\t91\\talone\\n" > "$2.tsv"'
    )
    engine = TesseractEngine(binary=_fake_tesseract(tmp_path, body))
    results = engine.recognise_many(refs)
    assert [[w.text for w in r.words] for r in results] == [["alone"]] * 3


@pytest.mark.tesseract
@pytest.mark.skipif(not HAVE_TESSERACT, reason="tesseract not installed")
def test_pages_sharing_one_tesseract_process_read_as_they_do_alone(tmp_path):
    import cv2

    refs = []
    lines = [["Special Envoy Konoye", "arrived in Moscow"], ["H-197715 of 1945", "the Soviet Government."]]
    for n, text in enumerate(lines, start=1):
        img = np.full((260, 900), 255, np.uint8)
        for k, line in enumerate(text):
            cv2.putText(img, line, (30, 90 + 90 * k), cv2.FONT_HERSHEY_COMPLEX, 1.3, 0, 2)
        cv2.imwrite(str(tmp_path / f"{n:02d}.png"), img)
    (tmp_path / "03.png").write_bytes(b"\x89PNG\r\n\x1a\n not a png")
    refs = [*expand_scans([tmp_path / "01.png", tmp_path / "02.png"]), PageRef(tmp_path / "03.png", 0, 3)]
    engine = TesseractEngine()
    together = engine.recognise_many(refs)
    assert together[0] == engine.recognise(refs[0]) and together[1] == engine.recognise(refs[1])
    assert "Konoye" in [w.text for w in together[0].words]
    assert isinstance(together[2], BadInput)
