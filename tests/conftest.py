"""What every test module shares: where the repository and the shared data are, and how
the markers behave.

Markers (registered in pyproject.toml; ``--strict-markers`` refuses any other):

- ``tesseract``: runs the real Tesseract binary; skipped when it is not installed.
- ``realdata``: reads ``../shared/realdata``; skipped when that folder is absent.
- ``slow``: takes more than a few seconds; ``make test-fast`` leaves these out.
- ``browser``: drives a headless Chromium (the module skips without one).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

#: The repository's root (the folder holding pyproject.toml).
ROOT = Path(__file__).resolve().parent.parent
#: The read-only data shared beside the repository (``../shared``).
SHARED = ROOT.parent / "shared"
REALDATA = SHARED / "realdata"
#: The bundled document: scans and transcript, its ground truth, its lexicon.
SCANS = ROOT / "scans" / "psis-400-23"
GOLDEN = ROOT / "golden" / "psis-400-23"
LEXICON = ROOT / "lexicons" / "psis-400-23.txt"

HAVE_TESSERACT = shutil.which("tesseract") is not None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    no_tesseract = pytest.mark.skip(reason="tesseract not installed")
    no_realdata = pytest.mark.skip(reason=f"{REALDATA} absent")
    for item in items:
        if "tesseract" in item.keywords and not HAVE_TESSERACT:
            item.add_marker(no_tesseract)
        if "realdata" in item.keywords and not REALDATA.is_dir():
            item.add_marker(no_realdata)


@pytest.fixture
def repo_root() -> Path:
    return ROOT


@pytest.fixture
def realdata() -> Path:
    """``../shared/realdata``; the test is skipped when it is absent."""
    if not REALDATA.is_dir():
        pytest.skip(f"{REALDATA} absent")
    return REALDATA
