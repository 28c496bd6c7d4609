"""The speed benchmark's Tesseract wrapper: it runs what it wraps, passes its exit code on,
and logs each run's CPU seconds where the budget finds them, by kind."""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

import bench_speed as bs  # noqa: E402

pytestmark = pytest.mark.skipif(not Path("/bin/bash").is_file(), reason="the wrapper is a bash script")


@pytest.fixture
def wrapped(tmp_path: Path) -> tuple[Path, Path]:
    """A wrapper around a stand-in for Tesseract that spends some CPU, exits with the
    code its first argument names, and writes its arguments where Tesseract writes."""
    fake = tmp_path / "fake-tesseract"
    fake.write_text(
        "#!/bin/bash\n"
        f'{shlex.quote(sys.executable)} -c "sum(range(2_000_000))"\n'
        'echo "$@" > "$0.args"\n'
        'exit "$1"\n',
        encoding="utf-8",
    )
    fake.chmod(0o755)
    log = tmp_path / "log with space.txt"
    log.touch()
    wrapper = tmp_path / "tesseract"
    wrapper.write_text(bs.WRAPPER.format(real=shlex.quote(str(fake)), log=shlex.quote(str(log))))
    wrapper.chmod(0o755)
    return wrapper, log


def test_runs_are_logged_by_kind_with_their_cpu(wrapped: tuple[Path, Path]) -> None:
    wrapper, log = wrapped
    for args in (
        ["0", "out", "-l", "eng", "--psm", "4", "--oem", "1"],
        ["0", "out", "-l", "eng", "--psm", "4"],
        ["0", "out", "-l", "eng", "--psm", "7", "-c", "lstm_choice_mode=2"],
        ["0", "out", "-l", "osd", "--psm", "0"],
        ["0", "--version"],
    ):
        assert subprocess.run([str(wrapper), *args], check=False).returncode == 0
    parts = bs.tesseract_cpu(log)
    assert (parts["pages_runs"], parts["reread_runs"]) == (2, 1)
    assert parts["pages"] > 0 and parts["reread"] > 0 and parts["other"] > 0
    assert len(log.read_text(encoding="utf-8").splitlines()) == 5
    assert not list(log.parent.glob("log with space.txt.*"))  # the scratch file of times is gone


def test_exit_code_and_arguments_pass_through(wrapped: tuple[Path, Path]) -> None:
    wrapper, _ = wrapped
    done = subprocess.run([str(wrapper), "3", "a b", "--psm", "4"], check=False)
    assert done.returncode == 3
    assert (wrapper.parent / "fake-tesseract.args").read_text(encoding="utf-8") == "3 a b --psm 4\n"


def test_times_fields() -> None:
    assert bs._seconds("0m0.250s") == pytest.approx(0.25)
    assert bs._seconds("2m1.500s") == pytest.approx(121.5)
