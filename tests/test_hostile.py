"""Hostile input and faults (issue 11): every case ends in its documented exit code and
one line on stderr, with no traceback, no input changed and no temp file left behind."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ocr_fix import fileio
from ocr_fix.cli import app
from ocr_fix.errors import ExitCode
from tests.conftest import ROOT

SCANS = ROOT / "scans" / "psis-400-23"
runner = CliRunner()


def fails(result, code: ExitCode, *words: str) -> None:
    """Exit ``code``, exactly one line on stderr naming ``words``, no traceback."""
    lines = result.stderr.strip().splitlines()
    assert result.exit_code == code, (result.exit_code, result.stderr, result.exception)
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    for w in words:
        assert w in lines[0], (w, lines[0])


def snapshot(*dirs: Path) -> dict[str, bytes]:
    """Every file under ``dirs`` with its bytes: proves nothing changed or appeared."""
    return {str(p): p.read_bytes() for d in dirs for p in sorted(Path(d).rglob("*")) if p.is_file()}


def no_temp_files(*dirs: Path) -> bool:
    return not [p for d in dirs for p in Path(d).rglob("*") if p.name.endswith(".tmp")]


@pytest.fixture
def doc(tmp_path: Path) -> tuple[Path, Path, Path]:
    """A transcript, a folder with one scan and a lexicon."""
    t = tmp_path / "t.md"
    t.write_text("Prince Konoye went to Moscow.\n", encoding="utf-8")
    scans = tmp_path / "scans"
    scans.mkdir()
    shutil.copy(SCANS / "02.png", scans / "02.png")
    lex = tmp_path / "names.txt"
    lex.write_text("Konoye\n", encoding="utf-8")
    return t, scans, lex


# --- 1. an output path that is one of the inputs -------------------------------------


@pytest.mark.parametrize("target", ["transcript", "scan", "lexicon", "symlink", "hardlink"])
def test_check_refuses_to_write_over_an_input(doc, tmp_path: Path, target: str) -> None:
    t, scans, lex = doc
    out = {"transcript": t, "scan": scans / "02.png", "lexicon": lex}.get(target)
    if target == "symlink":
        out = tmp_path / "link.md"
        out.symlink_to(t)
    elif target == "hardlink":
        out = tmp_path / "hard.md"
        os.link(t, out)
    before = snapshot(tmp_path)
    r = runner.invoke(app, ["check", str(t), str(scans), "-l", str(lex), "-o", str(out), "-q"])
    fails(r, ExitCode.USAGE, "would overwrite the input")
    assert snapshot(tmp_path) == before


def test_every_command_refuses_its_input_as_output(doc, tmp_path: Path) -> None:
    t, scans, _ = doc
    findings = tmp_path / "f.json"
    findings.write_text("{}", encoding="utf-8")
    gt = tmp_path / "gt"
    gt.mkdir()
    (gt / "01.txt").write_text("a\n", encoding="utf-8")
    before = snapshot(tmp_path)
    cases = [
        ["fix", str(t), "--findings", str(findings), "-o", str(t)],
        ["fix", str(t), "--findings", str(findings), "--diff", str(findings)],
        ["score", str(gt), str(gt), "-o", str(gt / "01.txt")],
        ["lexicon", "suggest", str(t), "-o", str(t)],
        ["lexicon", "suggest", str(t), "--scans", str(scans), "-o", str(scans / "02.png")],
    ]
    for args in cases:
        fails(runner.invoke(app, args), ExitCode.USAGE, "would overwrite the input")
    assert snapshot(tmp_path) == before


def test_fix_in_place_backup_over_the_findings_is_refused(tmp_path: Path) -> None:
    t = tmp_path / "t.md"
    t.write_text("Moskow\n", encoding="utf-8")
    f = tmp_path / "t.md.bak"
    f.write_text("{}", encoding="utf-8")
    before = snapshot(tmp_path)
    fails(runner.invoke(app, ["fix", str(t), "--findings", str(f), "--in-place"]), ExitCode.USAGE)
    assert snapshot(tmp_path) == before


# --- 4. fix --in-place through a symlink, modes, fsync -------------------------------


def _fix_case(dirpath: Path, mode: int) -> tuple[Path, Path, bytes]:
    raw = b"Prince went to Moskow.\n"
    real = dirpath / "real.md"
    real.write_bytes(raw)
    real.chmod(mode)
    at = raw.index(b"Moskow")
    finding = {
        "severity": "error",
        "kind": "substitution",
        "transcript": {
            "line": 1,
            "column": at + 1,
            "end_column": at + 7,
            "text": "Moskow",
            "offset": at,
            "end_offset": at + 6,
        },
        "scan": {"page": 1, "line": 1, "text": "Moscow", "confidence": 96.0, "bbox": None, "image": "1.png"},
        "suggestion": "Moscow",
        "message": "test",
    }
    doc = {
        "schema": "ocr-fix/check/1",
        "transcript": str(real),
        "transcript_sha256": hashlib.sha256(raw).hexdigest(),
        "findings": [finding],
    }
    f = dirpath / "f.json"
    f.write_text(json.dumps(doc), encoding="utf-8")
    return real, f, raw


def test_fix_in_place_through_a_symlink_fixes_the_target(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    real, f, raw = _fix_case(data, 0o640)
    link = tmp_path / "t.md"
    link.symlink_to(real)
    r = runner.invoke(app, ["fix", str(link), "--findings", str(f), "--in-place"])
    assert r.exit_code == 0, r.stderr
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert real.read_bytes() == raw.replace(b"Moskow", b"Moscow")
    assert (data / "real.md.bak").read_bytes() == raw
    assert real.stat().st_mode & 0o777 == 0o640
    assert (data / "real.md.bak").stat().st_mode & 0o777 == 0o640
    assert no_temp_files(tmp_path)


def test_write_atomic_keeps_a_private_mode_from_the_first_byte_and_syncs(tmp_path, monkeypatch) -> None:
    """The temp file already has 0600 when it is renamed over a 0600 file, and its data
    were fsynced before the rename."""
    target = tmp_path / "secret.md"
    target.write_text("old", encoding="utf-8")
    target.chmod(0o600)
    events: list[str] = []
    real_replace, real_fsync = os.replace, os.fsync

    def replace(src, dst):
        events.append(f"replace {oct(os.stat(src).st_mode & 0o777)}")
        return real_replace(src, dst)

    def fsync(fd):
        events.append("fsync")
        return real_fsync(fd)

    monkeypatch.setattr(fileio.os, "replace", replace)
    monkeypatch.setattr(fileio.os, "fsync", fsync)
    fileio.write_atomic(target, "new")
    assert events[:2] == ["fsync", "replace 0o600"]
    assert target.read_text(encoding="utf-8") == "new" and target.stat().st_mode & 0o777 == 0o600
    assert no_temp_files(tmp_path)


# --- 9. outputs that cannot be written --------------------------------------------------


def test_output_naming_a_directory_is_exit_10(doc, tmp_path: Path) -> None:
    t, _, lex = doc
    r = runner.invoke(app, ["check", str(t), "-l", str(lex), "-o", str(tmp_path), "-q"])
    fails(r, ExitCode.CANNOT_WRITE, "is a directory")
    assert no_temp_files(tmp_path)


def test_output_in_a_missing_directory_is_exit_10(doc, tmp_path: Path) -> None:
    t, _, lex = doc
    r = runner.invoke(app, ["check", str(t), "-l", str(lex), "-o", str(tmp_path / "no" / "r.txt"), "-q"])
    fails(r, ExitCode.CANNOT_WRITE, "does not exist")


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only directories")
def test_read_only_output_directory_is_exit_10(doc, tmp_path: Path) -> None:
    t, _, lex = doc
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        r = runner.invoke(app, ["check", str(t), "-l", str(lex), "-o", str(ro / "r.txt"), "-q"])
        fails(r, ExitCode.CANNOT_WRITE, "r.txt", "cannot write")
        assert list(ro.iterdir()) == []
    finally:
        ro.chmod(0o700)


def test_read_only_file_system_is_exit_10(doc, tmp_path: Path, monkeypatch) -> None:
    """The same through the OS error itself (the tests may run as root, who ignores modes)."""
    t, _, lex = doc

    def read_only(*args, **kwargs):
        raise OSError(30, "Read-only file system")

    monkeypatch.setattr(fileio.tempfile, "mkstemp", read_only)
    r = runner.invoke(app, ["check", str(t), "-l", str(lex), "-o", str(tmp_path / "r.txt"), "-q"])
    fails(r, ExitCode.CANNOT_WRITE, "Read-only file system")


def test_full_disk_is_exit_10_and_leaves_no_temp_file(doc, tmp_path: Path, monkeypatch) -> None:
    t, _, lex = doc
    real_fsync = os.fsync

    def full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(fileio.os, "fsync", full)
    out = tmp_path / "r.txt"
    r = runner.invoke(app, ["check", str(t), "-l", str(lex), "-o", str(out), "-q"])
    monkeypatch.setattr(fileio.os, "fsync", real_fsync)
    fails(r, ExitCode.CANNOT_WRITE, "No space left on device")
    assert not out.exists() and no_temp_files(tmp_path)


def test_ocr_and_synth_output_dir_that_is_a_file_is_exit_10(tmp_path: Path) -> None:
    f = tmp_path / "file"
    f.write_text("x", encoding="utf-8")
    gt = tmp_path / "01.gt.txt"
    gt.write_text("hello\n", encoding="utf-8")
    fails(runner.invoke(app, ["ocr", str(SCANS / "02.png"), "-o", str(f)]), ExitCode.CANNOT_WRITE)
    fails(runner.invoke(app, ["synth", str(gt), "-o", str(f / "sub")]), ExitCode.CANNOT_WRITE)
    assert f.read_text(encoding="utf-8") == "x"


# --- 5, 6. pixel and page limits ------------------------------------------------------


def png_header_only(path: Path, width: int, height: int) -> Path:
    """A PNG that declares ``width`` x ``height`` but holds no pixels: a few dozen bytes
    that Pillow would decode into gigabytes."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b"")
    )
    return path


def blank_pdf(path: Path, width_pt: float, height_pt: float, pages: int = 1) -> Path:
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument.new()
    for _ in range(pages):
        pdf.new_page(width_pt, height_pt)
    pdf.save(str(path))
    pdf.close()
    return path


@pytest.mark.parametrize("side", [10_000, 14_000, 100_000])  # over the limit; Pillow warns; Pillow errors
def test_images_over_the_pixel_limit_are_refused_in_one_line(tmp_path: Path, side: int, recwarn) -> None:
    from ocr_fix.scans import MAX_PIXELS

    assert side * side > MAX_PIXELS
    big = png_header_only(tmp_path / "big.png", side, side)
    before = big.read_bytes()
    r = runner.invoke(app, ["ocr", str(big), "--jobs", "1", "--no-cache", "-q"])
    fails(r, ExitCode.BAD_INPUT, "big.png")
    assert "DecompressionBomb" not in r.stderr and not [w for w in recwarn if "Decompression" in str(w)]
    assert big.read_bytes() == before


def test_pixel_limit_is_passed_per_call_not_set_globally(tmp_path: Path) -> None:
    from PIL import Image

    from ocr_fix.errors import BadInput
    from ocr_fix.model import PageRef
    from ocr_fix.scans import load_image

    limit = Image.MAX_IMAGE_PIXELS
    png = tmp_path / "p.png"
    Image.new("L", (100, 100), 255).save(png)
    ref = PageRef(png, 0, 1)
    assert load_image(ref, max_pixels=10_000).shape == (100, 100)
    with pytest.raises(BadInput, match="page 1 is 100x100 pixels"):
        load_image(ref, max_pixels=9_999)
    assert limit == Image.MAX_IMAGE_PIXELS


def test_huge_pdf_page_is_refused_with_its_number(tmp_path: Path) -> None:
    """The 14400 x 14400 pt page of the issue: 3.6 Gpx at 300 dpi, still 207 Mpx at 72."""
    pdf = blank_pdf(tmp_path / "big.pdf", 14400, 14400)
    r = runner.invoke(app, ["ocr", str(pdf), "--jobs", "1", "--no-cache", "-q"])
    fails(r, ExitCode.BAD_INPUT, "big.pdf", "PDF page 1", "14400x14400 pt")


def test_large_pdf_page_is_rendered_at_a_lower_dpi_within_the_limit(tmp_path: Path) -> None:
    from ocr_fix.model import PageRef
    from ocr_fix.scans import MIN_PDF_DPI, load_image, pdf_render_dpi

    pdf = blank_pdf(tmp_path / "letter.pdf", 612, 792)
    img = load_image(PageRef(pdf, 0, 1), dpi=300, max_pixels=1_000_000)
    assert img.size <= 1_000_000 and img.shape[0] > 792  # lowered from 300 dpi, still above 72
    assert pdf_render_dpi(612, 792, 300) == 300
    a0 = pdf_render_dpi(2384, 3370, 300)  # A0 in points: 139 Mpx at 300 dpi
    assert a0 is not None and MIN_PDF_DPI < a0 < 300
    assert pdf_render_dpi(14400, 14400, 300) is None


def test_a_pdf_with_too_many_pages_is_refused(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr("ocr_fix.scans.MAX_PAGES", 3)
    pdf = blank_pdf(tmp_path / "many.pdf", 100, 100, pages=4)
    r = runner.invoke(app, ["ocr", str(pdf), "--jobs", "1", "--no-cache", "-q"])
    fails(r, ExitCode.BAD_INPUT, "many.pdf", "4 pages")


# --- 7. lexicon regexes -----------------------------------------------------------------


@pytest.mark.parametrize(
    "pattern",
    [r"(a+)+$", r"(\w+\s?)*", r"(a|b+)*", r"((x*))+y", r"(?:(?:(?:a{100}){100}){100}){100}", "a" * 1001],
)
def test_nested_quantifiers_are_refused_at_load_time(tmp_path: Path, pattern: str) -> None:
    lex = tmp_path / "lex.txt"
    lex.write_text(f"Konoye\nre:{pattern}\tidentifier\n", encoding="utf-8")
    t = tmp_path / "t.md"
    t.write_text("Konoye " + "a" * 30 + "!\n", encoding="utf-8")
    r = runner.invoke(app, ["lexicon", "check", str(lex)])
    assert r.exit_code == ExitCode.BAD_LEXICON and ":2: unsafe regex" in r.stdout
    fails(runner.invoke(app, ["check", str(t), "-l", str(lex), "-q"]), ExitCode.BAD_LEXICON, "line 2")


@pytest.mark.parametrize("pattern", [r"H-\d{6}", r"(\d+-)+\d+", r"[A-Z]{2}\d+", r"(?:ab)+c?"])
def test_ordinary_patterns_are_accepted(tmp_path: Path, pattern: str) -> None:
    from ocr_fix.lexicon import nested_quantifier

    assert not nested_quantifier(pattern)
    lex = tmp_path / "lex.txt"
    lex.write_text(f"re:{pattern}\n", encoding="utf-8")
    assert runner.invoke(app, ["lexicon", "check", str(lex)]).exit_code == 0


def test_a_backtracking_regex_times_out_as_a_lexicon_error(tmp_path: Path) -> None:
    """``(a|aa)+$`` escapes the load-time check; its match is stopped by the timeout."""
    lex = tmp_path / "lex.txt"
    lex.write_text("Konoye\nre:(a|aa)+$\n", encoding="utf-8")
    t = tmp_path / "t.md"
    t.write_text("Prince Konoye said " + "a" * 40 + "b and left.\n", encoding="utf-8")
    r = runner.invoke(app, ["check", str(t), "-l", str(lex), "-q"])
    fails(r, ExitCode.BAD_LEXICON, "line 2", "took over")


# --- 8. control characters on the terminal ----------------------------------------------


def test_terminal_escapes_in_a_transcript_are_shown_not_obeyed(tmp_path: Path, monkeypatch) -> None:
    from tests.fakes import FakeEngine, OcrCliRunner

    scans = tmp_path / "scans"
    scans.mkdir()
    shutil.copy(SCANS / "02.png", scans / "01.png")
    text = (
        "The Ambassador in Moscow reported that Prince Konoye would go to the Soviet Union "
        "as a special envoy of the Emperor in order to end the war.\n"
    )
    engine = FakeEngine({"01.png": text})
    t = tmp_path / "t.md"
    t.write_text(text.replace("Konoye", "Kenoye\x1b]0;pwned\x07\x1b[31m\u202e"), encoding="utf-8")
    r = OcrCliRunner(engine).invoke(
        app, ["check", str(t), str(scans), "-q", "--jobs", "1", "--no-cache", "--show", "info"]
    )
    assert r.exit_code in (0, 1), r.stderr
    assert "\x1b" not in r.stdout and "\x07" not in r.stdout and "\u202e" not in r.stdout
    assert "Kenoye\\x1b]0;pwned\\x07\\x1b[31m\\u202e" in r.stdout


def test_control_characters_in_error_lines_and_lexicon_check_are_escaped(tmp_path: Path) -> None:
    from ocr_fix.report.visible import visible

    assert visible("a\x1b[31mb\tc\u202ed") == "a\\x1b[31mb\\x09c\\u202ed"
    assert visible("x\ny\x1b\tz\r", keep_layout=True) == "x\ny\\x1b\tz\\x0d"
    missing = tmp_path / "no\x1b]0;pwned\x07.md"
    r = runner.invoke(app, ["check", str(missing), "-q"])
    fails(r, ExitCode.NOT_FOUND, "\\x1b]0;pwned\\x07")
    assert "\x1b" not in r.stderr


# --- 2. two batch runs on one OUT ---------------------------------------------------------


def _manifest(root: Path, name: str, ids: list[str]) -> Path:
    """Documents whose scans are missing: each fails at once, but writes its summary line."""
    m = root / name
    m.write_text("id,transcript,scans\n" + "".join(f"{i},t.md,none-{i}.png\n" for i in ids), encoding="utf-8")
    (root / "t.md").write_text("text\n", encoding="utf-8")
    return m


def _summary_ids(out: Path) -> list[str]:
    return [json.loads(line)["document"] for line in (out / "summary.jsonl").read_text().splitlines()]


def test_batch_on_a_locked_out_says_so_with_no_wait(tmp_path: Path) -> None:
    from filelock import FileLock

    m = _manifest(tmp_path, "m.csv", ["a"])
    out = tmp_path / "out"
    out.mkdir()
    with FileLock(str(out / fileio.DIR_LOCK)):
        r = runner.invoke(app, ["batch", "--manifest", str(m), "-o", str(out), "--no-wait", "-q"])
    fails(r, ExitCode.OUTPUT_IN_USE, "in use by another ocr-fix batch run")
    assert not (out / "summary.jsonl").exists()


@pytest.mark.slow  # two subprocesses: ~7 s on a loaded 2-core machine
def test_two_batch_runs_on_one_out_lose_no_summary_line(tmp_path: Path) -> None:
    """Both runs start while OUT is locked, wait, then take turns: every line stays."""
    import subprocess
    import sys

    from filelock import FileLock

    out = tmp_path / "out"
    out.mkdir()
    first = _manifest(tmp_path, "one.csv", ["a1", "a2"])
    second = _manifest(tmp_path, "two.csv", ["b1", "b2", "b3"])
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "ocr_fix", "batch", "-o", str(out), "-q", "--jobs", "1", "--manifest"]
    lock = FileLock(str(out / fileio.DIR_LOCK))
    with lock:
        runs = [
            subprocess.Popen([*cmd, str(m)], env=env, stderr=subprocess.PIPE, text=True)
            for m in (first, second)
        ]
        waiting = [p.stderr.readline() for p in runs if p.stderr]  # each says it waits, then blocks
        assert all("in use by another batch run; waiting" in w for w in waiting), waiting
        assert all(p.poll() is None for p in runs)
    errs = [p.communicate(timeout=120)[1] for p in runs]
    assert [p.returncode for p in runs] == [ExitCode.PARTIAL, ExitCode.PARTIAL], errs
    assert sorted(_summary_ids(out)) == ["a1", "a2", "b1", "b2", "b3"]
    assert "Traceback" not in "".join(errs)


def test_batch_output_that_is_a_file_is_exit_10(tmp_path: Path) -> None:
    m = _manifest(tmp_path, "m.csv", ["a"])
    f = tmp_path / "out"
    f.write_text("not a folder", encoding="utf-8")
    fails(runner.invoke(app, ["batch", "--manifest", str(m), "-o", str(f), "-q"]), ExitCode.CANNOT_WRITE)
    assert f.read_text(encoding="utf-8") == "not a folder"


# --- 11. SIGTERM: stop, clean up, exit 143 --------------------------------------------------


def _descendants(pid: int) -> set[int]:
    """Every live process below ``pid`` (Linux /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    out: set[int] = set()
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            out.add(child)
            todo.append(child)
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _tesseract_running_under(pid: int) -> bool:
    for child in _descendants(pid):
        try:
            if Path(f"/proc/{child}/comm").read_text().strip() == "tesseract":
                return True
        except OSError:
            pass
    return False


@pytest.mark.tesseract
@pytest.mark.slow
@pytest.mark.skipif(
    not Path("/proc").is_dir() or shutil.which("tesseract") is None, reason="Linux + Tesseract"
)
@pytest.mark.parametrize(
    ("command", "sig"), [("check", "SIGTERM"), ("batch", "SIGTERM"), ("check", "SIGINT"), ("batch", "SIGINT")]
)
def test_signals_stop_workers_and_tesseract_and_leave_no_files(
    tmp_path: Path, command: str, sig: str
) -> None:
    """SIGTERM to the parent alone (as a service manager sends it); SIGINT to the whole
    process group (as Ctrl-C at a terminal does)."""
    import signal
    import subprocess
    import sys
    import time

    doc = tmp_path / "archive" / "doc"
    doc.mkdir(parents=True)
    for n in ("02", "03", "04", "05"):
        shutil.copy(SCANS / f"{n}.png", doc / f"{n}.png")
    (doc / "transcript.md").write_text("Some text of the pages.\n", encoding="utf-8")
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TMPDIR": str(tmp)}
    common = ["--jobs", "2", "--no-cache", "-q"]
    if command == "check":
        args = ["check", str(doc / "transcript.md"), str(doc), *common]
    else:
        args = ["batch", str(tmp_path / "archive"), "-o", str(tmp_path / "out"), *common]
    proc = subprocess.Popen(
        [sys.executable, "-m", "ocr_fix", *args],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, like a shell job
    )
    deadline = time.monotonic() + 90
    while not _tesseract_running_under(proc.pid) and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.1)
    assert proc.poll() is None, "finished before Tesseract was seen"
    seen = _descendants(proc.pid)
    if sig == "SIGTERM":
        proc.send_signal(signal.SIGTERM)
    else:
        os.killpg(proc.pid, signal.SIGINT)
    err = proc.communicate(timeout=30)[1]
    code, line = (
        (ExitCode.TERMINATED, "ocr-fix: terminated (SIGTERM)")
        if sig == "SIGTERM"
        else (ExitCode.INTERRUPTED, "ocr-fix: interrupted")
    )
    assert proc.returncode == code, err
    assert err.strip().splitlines() == [line], err
    end = time.monotonic() + 10
    while any(_alive(p) for p in seen) and time.monotonic() < end:
        time.sleep(0.2)
    assert not [p for p in seen if _alive(p)], "orphan processes after 10 s"
    assert list(tmp.iterdir()) == [], list(tmp.iterdir())
    assert (
        list(doc.iterdir())
        and (doc / "transcript.md").read_text(encoding="utf-8") == "Some text of the pages.\n"
    )


def test_finding_the_temp_directory_holds_an_interruption_until_its_probe_file_is_gone(
    tmp_path: Path, monkeypatch
) -> None:
    """tempfile's first look for the temp directory writes and deletes a randomly named
    file there; Ctrl-C or SIGTERM between the two (here: right after the file is made)
    left it behind, as a ``check`` stopped just after its version check did. (The signal
    goes to this thread: pytest runs others, which would take a process-wide one.)"""
    import signal
    import tempfile
    import threading

    monkeypatch.setattr(tempfile, "tempdir", None)  # as in a process that has not looked yet
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    real_open = os.open

    def open_then_interrupted(path, *args, **kwargs):
        fd = real_open(path, *args, **kwargs)
        if str(path).startswith(str(tmp_path)):
            signal.pthread_kill(threading.get_ident(), signal.SIGINT)
        return fd

    monkeypatch.setattr(os, "open", open_then_interrupted)
    with pytest.raises(KeyboardInterrupt):
        fileio.temp_root()
    monkeypatch.setattr(os, "open", real_open)
    assert list(tmp_path.iterdir()) == []
    assert tempfile.tempdir == str(tmp_path)  # found before the interruption was let through


def test_a_scratch_directory_interrupted_as_it_is_made_or_used_leaves_nothing(
    tmp_path: Path, monkeypatch
) -> None:
    import contextlib

    real_mkdir = os.mkdir

    def made_then_interrupted(path, *args, **kwargs):
        real_mkdir(path, *args, **kwargs)
        raise KeyboardInterrupt  # as Ctrl-C raises it right after the call returns

    monkeypatch.setattr(os, "mkdir", made_then_interrupted)
    with pytest.raises(KeyboardInterrupt), fileio.scratch_dir("x-", str(tmp_path)):
        pass
    monkeypatch.setattr(os, "mkdir", real_mkdir)
    assert list(tmp_path.iterdir()) == []
    # An OCR worker stopped by SIGTERM exits at once, inside its ``with`` blocks: what
    # it has made is removed by name (remove_scratch, from its signal handler).
    with contextlib.ExitStack() as stack:
        made = Path(stack.enter_context(fileio.scratch_dir("x-", str(tmp_path))))
        (made / "page.bmp").write_bytes(b"BM")
        fileio.remove_scratch()
        assert list(tmp_path.iterdir()) == []
    with fileio.scratch_dir("x-", str(tmp_path)) as one, fileio.scratch_dir("x-", str(tmp_path)) as two:
        assert one != two and Path(one).is_dir() and Path(two).is_dir()
    assert list(tmp_path.iterdir()) == []


def test_the_tesseract_files_of_a_run_live_in_the_run_s_own_directory(tmp_path: Path) -> None:
    """A worker stopped at any instant, or killed outright, can leave files only where the
    run removes everything once its workers are reaped."""
    import numpy as np

    from ocr_fix.ocr.tesseract import TesseractEngine
    from ocr_fix.scans import DecodedPages

    log = tmp_path / "inputs.txt"
    binary = fake_tesseract(tmp_path, f'echo "$1" >> "{log}"\nprintf "{TSV_HEAD}\\n" > "$2.tsv"\n')
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    engine = TesseractEngine(binary=str(binary), decoded=DecodedPages(run_dir))
    engine.run_many([np.full((20, 20), 255, np.uint8)], "tsv", "a test image")
    assert Path(log.read_text().strip()).parent.parent == run_dir
    assert list(run_dir.iterdir()) == []  # its own directory is gone with the run
    # Without a directory of the run's (a Dask worker on another machine): the system's.
    elsewhere = TesseractEngine(binary=str(binary), decoded=DecodedPages(tmp_path / "not-here"))
    elsewhere.run_many([np.full((20, 20), 255, np.uint8)], "tsv", "a test image")
    assert Path(log.read_text().split()[-1]).parent.parent != run_dir


def test_an_ocr_worker_has_found_the_temp_directory_before_its_first_task() -> None:
    """...while it had one thread and no SIGTERM could cut the probe short (above)."""
    from ocr_fix.ocr.scheduler import process_pool, stop_pool

    pool = process_pool(1)
    try:
        assert pool.submit(eval, "__import__('tempfile').tempdir").result(timeout=60) is not None
    finally:
        stop_pool(pool)


# --- 10, 12. bad cache entries, malformed engine output, hung Tesseract --------------------


def fake_tesseract(tmp_path: Path, body: str) -> Path:
    """A stand-in ``tesseract`` on PATH: version and languages like the real one, then
    ``body`` (sh) with $1 = input image or list, $2 = output base."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    binary = bin_dir / "tesseract"
    binary.write_text(
        "#!/bin/sh\n"
        'case "$1" in --version) echo "tesseract 9.9.9-fake"; exit 0;;\n'
        '  --list-langs) echo "List of available languages (1):"; echo eng; exit 0;; esac\n' + body
    )
    binary.chmod(0o755)
    return binary


TSV_HEAD = "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext"


def test_a_corrupt_second_reading_cache_entry_is_a_miss(tmp_path: Path) -> None:
    from PIL import Image

    from ocr_fix.model import BBox, Page, PageRef
    from ocr_fix.ocr.cache import OcrCache
    from ocr_fix.ocr.reread import TesseractLineReader, _cached_lines
    from ocr_fix.ocr.tesseract import TesseractEngine

    binary = fake_tesseract(
        tmp_path,
        "echo \"<html><body><div class='ocr_page' title='ppageno 0'>"
        '<span class=\'ocrx_word\'>word</span></div></body></html>" > "$2.hocr"\n',
    )
    Image.new("L", (200, 100), 255).save(tmp_path / "1.png")
    page = Page(PageRef(tmp_path / "1.png", 0, 1), 200, 100, ())
    boxes = [BBox(0, 0, 50, 20)]
    cache = OcrCache(tmp_path / "cache")
    reader = TesseractLineReader(TesseractEngine(binary=str(binary)), cache)
    for corrupt in ([[1]], [["w", [[1]]]], [[["w", [["a", {"b": "x"}]]]]], {"a": 1}, "text"):
        cache.put_json(reader._key(page, boxes), corrupt)
        got = reader.read_lines([(page, boxes)])
        assert [[w for w, _ in line] for line in got[0]] == [["word"]]
    assert _cached_lines([[1]], 1) is None and _cached_lines([[["w", [["a", {"b": 1.0}]]]]], 1) is not None


def test_a_corrupt_page_cache_entry_is_a_miss(tmp_path: Path) -> None:
    from ocr_fix.model import PageRef
    from ocr_fix.ocr.cache import OcrCache
    from tests.fakes import FakeEngine

    cache = OcrCache(tmp_path / "cache")
    ref = PageRef(SCANS / "02.png", 0, 1)
    engine = FakeEngine({"02.png": "text"})
    for corrupt in ([[1]], {"version": 1, "ref": [], "words": 3}, {"version": 1}, None, 7):
        cache.put_json(cache.key(ref, engine), corrupt)
        assert cache.get(ref, engine) is None


@pytest.mark.parametrize("bad", ["x", "nan", "12abc"])
def test_malformed_tesseract_tsv_is_exit_7_naming_the_page(tmp_path: Path, monkeypatch, bad: str) -> None:
    fake_tesseract(
        tmp_path,
        f'printf "{TSV_HEAD}\\n5\\t1\\t1\\t1\\t1\\t1\\t10\\t10\\t{bad}\\t20\\t96\\tword\\n" > "$2.tsv"\n',
    )
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    r = runner.invoke(app, ["ocr", str(SCANS / "02.png"), "--jobs", "1", "--no-cache", "-q"])
    fails(r, ExitCode.OCR_FAILED, "page 1 (02.png)", "malformed TSV")


def test_malformed_tsv_in_batch_fails_that_document_alone(tmp_path: Path, monkeypatch) -> None:
    """The stand-in writes a bad TSV for large images only: one document fails, one is ok."""
    from PIL import Image

    fake_tesseract(
        tmp_path,
        'in="$1"; case "$in" in *.txt) in=$(head -n 1 "$in");; esac\n'
        'size=$(wc -c < "$in")\n'
        f'if [ "$size" -gt 200000 ]; then w=x; else w=30; fi\n'
        f'printf "{TSV_HEAD}\\n5\\t1\\t1\\t1\\t1\\t1\\t10\\t10\\t$w\\t20\\t96\\ttext\\n" > "$2.tsv"\n',
    )
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    root = tmp_path / "root"
    for name, side in (("small", 300), ("large", 900)):
        (root / name).mkdir(parents=True)
        Image.new("L", (side, side), 255).save(root / name / "01.png")
        (root / name / "transcript.md").write_text("text\n", encoding="utf-8")
    out = tmp_path / "out"
    r = runner.invoke(app, ["batch", str(root), "-o", str(out), "--jobs", "1", "--no-cache", "-q"])
    assert r.exit_code == ExitCode.PARTIAL, (r.stderr, r.exception)
    rows = {
        json.loads(x)["document"]: json.loads(x) for x in (out / "summary.jsonl").read_text().splitlines()
    }
    assert rows["small"]["status"] == "ok"
    assert rows["large"]["status"] == "failed" and "malformed TSV" in rows["large"]["reason"]
    assert "page 1 (01.png)" in rows["large"]["reason"]


def test_a_hung_tesseract_is_killed_at_the_page_timeout(tmp_path: Path, monkeypatch) -> None:
    import time

    pidfile = tmp_path / "pid"
    fake_tesseract(tmp_path, f'echo $$ > "{pidfile}"\nexec sleep 60\n')
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    t0 = time.monotonic()
    r = runner.invoke(
        app, ["ocr", str(SCANS / "02.png"), "--jobs", "1", "--no-cache", "-q", "--page-timeout", "1"]
    )
    fails(r, ExitCode.OCR_FAILED, "timed out after 1 s", "page 1 (02.png)")
    assert time.monotonic() - t0 < 30
    assert not _alive(int(pidfile.read_text()))


def test_the_default_page_timeout_grows_with_the_page_and_is_generous() -> None:
    import numpy as np

    from ocr_fix.ocr.tesseract import MIN_TIMEOUT, default_timeout

    letter = np.zeros((3300, 2550), np.uint8)  # 8.4 Mpx: 1-3 s of Tesseract on an idle core
    assert default_timeout([letter]) == MIN_TIMEOUT >= 60
    poster = np.zeros((10_000, 8_000), np.uint8)
    assert default_timeout([poster]) > default_timeout([letter])
    assert default_timeout([letter, letter]) == 2 * default_timeout([letter])


# --- 13. a transcript that is empty once markup is stripped --------------------------------

ONLY_MARKUP = ["**  **\n<sup></sup>\n---\n", "<!-- nothing -->\n\n", "# \n\n* \n\n> \n", "~~~~\n\n***\n"]


@pytest.mark.parametrize("text", ONLY_MARKUP)
def test_only_markup_is_an_empty_transcript_in_every_mode(tmp_path: Path, monkeypatch, text: str) -> None:
    from tests.fakes import FakeEngine

    t = tmp_path / "t.md"
    t.write_text(text, encoding="utf-8")
    scans = tmp_path / "scans"
    scans.mkdir()
    shutil.copy(SCANS / "02.png", scans / "01.png")
    engine = FakeEngine({"01.png": "Some words on the page."})
    monkeypatch.setattr("ocr_fix.pipeline.engine_for", lambda lang="eng", psm=None: engine)
    for args in ([str(t)], [str(t), str(scans)]):
        r = runner.invoke(app, ["check", *args, "--jobs", "1", "--no-cache", "-q"])
        fails(r, ExitCode.BAD_INPUT, "empty transcript")
    assert engine.calls == 0  # refused before any OCR


def test_only_markup_fails_that_batch_document_alone(tmp_path: Path) -> None:
    from ocr_fix.batch.discovery import discover
    from ocr_fix.batch.runner import run_batch
    from ocr_fix.distributed import LocalExecutor
    from tests.fakes import FakeEngine

    root = tmp_path / "root"
    for name, text in (("empty", ONLY_MARKUP[0]), ("fine", "Some words on the page.\n")):
        (root / name).mkdir(parents=True)
        shutil.copy(SCANS / "02.png", root / name / "01.png")
        (root / name / "transcript.md").write_text(text, encoding="utf-8")
    engine = FakeEngine({"01.png": "Some words on the page."})
    from ocr_fix.report import check_json

    result = run_batch(
        discover(root), tmp_path / "out", engine, LocalExecutor(1, threads=True), render=check_json.render
    )
    by_id = {o.document: o for o in result.outcomes}
    assert by_id["fine"].ok and not by_id["empty"].ok
    assert "empty transcript" in (by_id["empty"].reason or "")


# --- 3. document ids that collide with the run's own files ----------------------------------


BAD_IDS = [
    "summary.jsonl",
    ".ocr-fix.lock",
    ".",
    "..",
    "a/../../b",
    "/tmp/abs",
    "x\\y",
    "a//b",
    "d/findings.json",
]


def test_reserved_or_unsafe_manifest_ids_fail_alone_and_touch_nothing(tmp_path: Path) -> None:
    from ocr_fix.batch import runner as runner_mod
    from ocr_fix.batch import summary as summary_mod
    from ocr_fix.batch.discovery import RESERVED_NAMES, read_manifest
    from ocr_fix.batch.runner import run_batch
    from ocr_fix.distributed import LocalExecutor
    from ocr_fix.report import check_json
    from tests.fakes import FakeEngine

    assert {summary_mod.SUMMARY, runner_mod.FINDINGS, fileio.DIR_LOCK} <= RESERVED_NAMES
    root = tmp_path / "root"
    root.mkdir()
    shutil.copy(SCANS / "02.png", root / "01.png")
    (root / "t.md").write_text("Some words on the page.\n", encoding="utf-8")
    ids = [*BAD_IDS, "good", "nested/good"]
    lines = [json.dumps({"id": i, "transcript": "t.md", "scans": "01.png"}) for i in ids]
    (root / "m.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "work" / "out"
    out.mkdir(parents=True)
    before = snapshot(tmp_path)
    engine = FakeEngine({"01.png": "Some words on the page."})
    result = run_batch(
        read_manifest(root / "m.jsonl"), out, engine, LocalExecutor(1, threads=True), render=check_json.render
    )
    by_id = {o.document: o for o in result.outcomes}
    assert by_id["good"].ok and by_id["nested/good"].ok
    for bad in BAD_IDS:
        assert not by_id[bad].ok and "unusable document id" in (by_id[bad].reason or ""), bad
    assert (out / "summary.jsonl").is_file() and len(_summary_ids(out)) == len(ids)
    written = {p for p in snapshot(tmp_path) if p not in before}
    assert all(p.startswith(str(out)) for p in written), written
    assert {p for p in snapshot(tmp_path) if p in before} == set(before)


def test_a_folder_named_like_a_reserved_file_is_not_a_document(tmp_path: Path) -> None:
    from ocr_fix.batch.discovery import discover

    root = tmp_path / "root"
    for name in ("summary.jsonl", "ok"):
        (root / name).mkdir(parents=True)
        shutil.copy(SCANS / "02.png", root / name / "01.png")
        (root / name / "transcript.md").write_text("words\n", encoding="utf-8")
    problems = {d.id: d.problem for d in discover(root)}
    assert problems["ok"] is None and "reserved" in (problems["summary.jsonl"] or "")


def test_devices_and_fifos_are_written_to_not_replaced(doc, tmp_path: Path) -> None:
    import stat
    import threading

    t, _, lex = doc
    r = runner.invoke(app, ["check", str(t), "-l", str(lex), "-o", "/dev/null", "-q"])
    assert r.exit_code in (0, 1) and stat.S_ISCHR(os.stat("/dev/null").st_mode)
    if Path("/dev/full").exists():
        fails(
            runner.invoke(app, ["check", str(t), "-l", str(lex), "-o", "/dev/full", "-q"]),
            ExitCode.CANNOT_WRITE,
            "No space left on device",
        )
        assert stat.S_ISCHR(os.stat("/dev/full").st_mode)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    r = runner.invoke(app, ["check", str(t), "-l", str(lex), "-o", str(fifo), "-f", "json", "-q"])
    reader.join(timeout=30)
    assert r.exit_code in (0, 1) and stat.S_ISFIFO(os.stat(fifo).st_mode)
    assert json.loads(got[0])["schema"] == "ocr-fix/check/1"


def test_batch_report_over_a_document_file_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "doc").mkdir(parents=True)
    shutil.copy(SCANS / "02.png", root / "doc" / "01.png")
    (root / "doc" / "transcript.md").write_text("words\n", encoding="utf-8")
    before = snapshot(root)
    for target in (root / "doc" / "transcript.md", root / "doc" / "01.png"):
        r = runner.invoke(
            app,
            ["batch", str(root), "-o", str(tmp_path / "out"), "-f", "json", "--report", str(target), "-q"],
        )
        fails(r, ExitCode.USAGE, "would overwrite the input")
    assert snapshot(root) == before and not (tmp_path / "out").exists()


def test_batch_on_an_out_that_cannot_be_locked_is_exit_10(tmp_path: Path, monkeypatch) -> None:
    """A read-only OUT (the tests may run as root, who ignores modes: the OS error itself)."""
    import filelock

    def read_only(self, *args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(filelock.FileLock, "acquire", read_only)
    m = _manifest(tmp_path, "m.csv", ["a"])
    out = tmp_path / "out"
    fails(
        runner.invoke(app, ["batch", "--manifest", str(m), "-o", str(out), "-q"]),
        ExitCode.CANNOT_WRITE,
        "cannot lock",
    )
    assert not (out / "summary.jsonl").exists()
