"""The HTML review page in a real headless Chromium: it loads cleanly, its pictures decode,
filters and keys work, and hostile transcript text stays text.

Needs the Debian ``chromium`` binary (``make browser-deps``); skipped without it. Driven
with playwright against that binary; playwright's own browser download is never used.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ocr_fix.report import html
from tests.test_html import HOSTILE, SCAN_1, TRANSCRIPT_1, build_result, two_page_result

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

if not CHROMIUM.exists():
    pytest.skip(f"{CHROMIUM} not installed (run `make browser-deps` as root)", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="python package playwright not installed")


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


def open_report(browser: object, path: Path, show_info: bool = True) -> tuple[object, list[str]]:
    """Open ``path`` and collect console errors, page errors and CSP violations; with
    ``show_info``, tick the info filter (hidden by default) so every finding shows."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})  # type: ignore[attr-defined]
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.goto(path.as_uri())
    page.wait_for_load_state("load")
    info = page.locator("input[data-filter=severity][value=info]")
    if show_info and info.count():
        info.check()
    return page, problems


def test_info_findings_start_hidden(browser: object, tmp_path: Path) -> None:
    result = two_page_result(tmp_path)
    page, problems = open_report(browser, write_report(tmp_path, result), show_info=False)
    info = [i for i, f in enumerate(result.findings, 1) if f.severity.value == "info"]
    assert info and not page.locator(f"#f-{info[0]}").is_visible()
    shown = len(result.findings) - len(info)
    assert (
        page.locator("#visible-count").text_content() == f"{shown} of {len(result.findings)} findings shown"
    )
    assert problems == []
    page.close()


def write_report(directory: Path, result: object) -> Path:
    out = directory / "report.html"
    out.write_text(html.render(result), encoding="utf-8")  # type: ignore[arg-type]
    return out


def test_loads_cleanly_and_every_crop_decodes(browser: object, tmp_path: Path) -> None:
    result = two_page_result(tmp_path)
    page, problems = open_report(browser, write_report(tmp_path, result))
    sizes = page.eval_on_selector_all(
        "figure.crop img, .thumb img",
        "els => els.map(e => [e.complete, e.naturalWidth, e.naturalHeight, "
        "+e.getAttribute('width'), +e.getAttribute('height')])",
    )
    boxed = sum(1 for f in result.findings if f.scan and f.scan.bbox)
    assert len(sizes) == boxed + len(result.pages)
    for complete, nw, nh, w, h in sizes:
        assert complete and nw == w > 0 and nh == h > 0
    assert (
        page.locator("#visible-count").text_content()
        == f"{len(result.findings)} of {len(result.findings)} findings shown"
    )
    assert problems == []
    page.close()


def test_severity_and_kind_filters_hide_findings_and_boxes(browser: object, tmp_path: Path) -> None:
    result = two_page_result(tmp_path)
    page, problems = open_report(browser, write_report(tmp_path, result))
    total = len(result.findings)
    info = [i for i, f in enumerate(result.findings, 1) if f.severity.value == "info"]
    assert info and len(info) < total
    page.uncheck("input[data-filter=severity][value=info]")
    for i in info:
        assert not page.locator(f"#f-{i}").is_visible()
        assert not page.locator(f"svg a[data-finding=f-{i}]").is_visible()
    assert page.locator("article.finding:visible").count() == total - len(info)
    assert page.locator("#visible-count").text_content() == f"{total - len(info)} of {total} findings shown"
    page.check("input[data-filter=severity][value=info]")
    assert page.locator("article.finding:visible").count() == total
    kind = result.findings[0].kind.value
    same_kind = sum(1 for f in result.findings if f.kind.value == kind)
    page.uncheck(f"input[data-filter=kind][value={kind}]")
    assert page.locator("article.finding:visible").count() == total - same_kind
    assert problems == []
    page.close()


def test_keys_move_between_visible_findings_and_toggle_help(browser: object, tmp_path: Path) -> None:
    result = two_page_result(tmp_path)
    page, problems = open_report(browser, write_report(tmp_path, result))
    current = "() => { const c = document.querySelector('article.finding.current'); return c && c.id; }"
    page.keyboard.press("j")
    assert page.evaluate(current) == "f-1"
    assert page.evaluate("document.activeElement.id") == "f-1"
    page.keyboard.press("j")
    assert page.evaluate(current) == "f-2"
    page.keyboard.press("k")
    assert page.evaluate(current) == "f-1"
    page.keyboard.press("n")
    page.keyboard.press("p")
    assert page.evaluate(current) == "f-1"
    # A hidden finding is skipped.
    second = result.findings[1].severity.value
    if all(f.severity.value != second for f in result.findings[:1]):
        page.uncheck(f"input[data-filter=severity][value={second}]")
        page.keyboard.press("j")
        assert page.evaluate(current) not in ("f-1", "f-2")
        page.check(f"input[data-filter=severity][value={second}]")
    page.keyboard.press("G")  # an unbound key changes nothing
    assert page.locator("#help").is_hidden()
    page.keyboard.press("?")
    assert page.locator("#help").is_visible()
    page.keyboard.press("Escape")
    assert page.locator("#help").is_hidden()
    # Clicking a box on a thumbnail selects its finding.
    page.locator("svg a[data-finding=f-3] rect").click()
    assert page.evaluate(current) == "f-3"
    assert page.locator("#f-3").is_visible()
    assert problems == []
    page.close()


def test_hostile_transcript_runs_nothing_and_reads_literally(browser: object, tmp_path: Path) -> None:
    scan = SCAN_1 + "\n" + " and ".join(HOSTILE)
    transcript = TRANSCRIPT_1 + "\n" + " and ".join(HOSTILE) + " too"
    result = build_result(tmp_path, [scan], transcript)
    page, problems = open_report(browser, write_report(tmp_path, result))
    page.wait_for_timeout(100)  # give an onerror handler the chance to fire
    assert page.evaluate("typeof window.__pwned") == "undefined"
    text = page.locator("main").inner_text()
    assert HOSTILE[0] in text and HOSTILE[1] in text
    assert page.evaluate("document.scripts.length") == 1
    assert page.evaluate("document.querySelectorAll('img[onerror]').length") == 0
    assert problems == []
    page.close()
