"""``ocr-fix lexicon suggest|check``: write and vet the lexicons ``check`` uses."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from ocr_fix.cli import app
from ocr_fix.cli.common import handles_errors, services
from ocr_fix.cli.ocr_options import CacheDir, Jobs, Lang, NoCache, PageTimeout, Psm
from ocr_fix.cli.progress import progress_reporter
from ocr_fix.errors import ExitCode, LexiconError, UsageError
from ocr_fix.fileio import decode_text, read_input, refuse_input_as_output, write_atomic
from ocr_fix.lexicon import Dictionary, validate_lexicon
from ocr_fix.model import Word
from ocr_fix.report.visible import visible
from ocr_fix.scans import SCAN_SUFFIXES
from ocr_fix.transcript import STDIN, read_transcript

lexicon_app = typer.Typer(
    help="Propose a lexicon for a collection, or check a lexicon file.\n\n"
    "Example: ocr-fix lexicon suggest archive/ -o names.txt",
    no_args_is_help=True,
)
app.add_typer(lexicon_app, name="lexicon")


@lexicon_app.command("suggest")
@handles_errors
def suggest(
    ctx: typer.Context,
    transcripts: list[Path] = typer.Argument(
        ..., help="Transcripts of the collection, or batch roots (every document under them)."
    ),
    scans: list[Path] | None = typer.Option(
        None, "--scans", help="Scan directory or file of each transcript, in the same order (repeatable)."
    ),
    output: Path | None = typer.Option(
        None, "--output", "-o", help="Write the lexicon here instead of stdout."
    ),
    min_count: int = typer.Option(
        1, "--min-count", min=1, help="Leave out terms seen fewer times in the transcripts."
    ),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress output."),
    jobs: Jobs = None,
    no_cache: NoCache = False,
    cache_dir: CacheDir = None,
    lang: Lang = "eng",
    psm: Psm = None,
    page_timeout: PageTimeout = None,
) -> None:
    """Propose names and terms (with their variant spellings) and identifier patterns.

    Example: ocr-fix lexicon suggest archive/ -o names.txt

    With scans (--scans, or the page images of each document when a batch root is
    given), a term is proposed only when the scans show it; spellings the transcripts
    use but the scans do not are listed as suspect variants, never as terms. Without
    scans the proposal is marked unverified. Review it before use with check --lexicon.
    """
    from ocr_fix.batch.discovery import discover
    from ocr_fix.pipeline import cache_for, scan_ocr
    from ocr_fix.suggest import propose, render

    scans = list(scans or ())
    roots = [t for t in transcripts if t.is_dir()]
    if roots and scans:
        raise UsageError("--scans goes with transcript files; a batch root brings its own scans")
    if scans and len(scans) != len(transcripts):
        raise UsageError(
            f"give one --scans per transcript ({len(transcripts)} transcript(s), {len(scans)} --scans)"
        )
    files = [t for t in transcripts if not t.is_dir()]
    for root in roots:
        for doc in discover(root):
            if doc.transcript is not None:
                files.append(doc.transcript)
                scans.extend(doc.scans)
    if output == STDIN:
        output = None
    refuse_input_as_output([output], [*files, *scans], SCAN_SUFFIXES)
    docs = [read_transcript(t) for t in files]
    words: list[Word] | None = None
    if scans:
        ocr = scan_ocr(services(ctx).engines(lang, psm), cache_for(no_cache, cache_dir), jobs, page_timeout)
        with progress_reporter(enabled=not quiet) as report:
            pages = ocr(scans, report)
        words = [w for page in pages for w in page.words]
    dictionary = Dictionary.for_language(lang) or Dictionary.english()
    text = render(propose(docs, words, min_count, dictionary), [str(t) for t in transcripts])
    if output is not None:
        write_atomic(output, text)
    else:  # on a terminal, control characters from the transcripts are shown, not obeyed
        sys.stdout.write(visible(text, keep_layout=True) if sys.stdout.isatty() else text)


@lexicon_app.command("check")
@handles_errors
def check(file: Path = typer.Argument(..., help="Lexicon file to validate.")) -> None:
    """Validate a lexicon: bad regexes, duplicate terms, terms listed as another term's
    variant, empty terms, non-UTF-8.

    Example: ocr-fix lexicon check names.txt

    Exit 0 when clean, 5 when problems were found."""
    problems = validate_lexicon(file)
    for p in problems:
        sys.stdout.write(visible(f"{file}:{p.line}: {p.message}") + "\n")
    raise typer.Exit(int(ExitCode.BAD_LEXICON if problems else ExitCode.OK))


@lexicon_app.command("merge")
@handles_errors
def merge(
    files: list[Path] = typer.Argument(..., help="Lexicon files, the most trusted first."),
    output: Path | None = typer.Option(None, "--output", "-o", help="Write the merged lexicon here."),
) -> None:
    """Merge lexicons, one canonical spelling per term; conflicts are listed.

    Example: ocr-fix lexicon merge box1.txt box2.txt -o names.txt

    Where two files spell one term differently, the spelling with more evidence on the
    scans (as lexicon suggest notes it) wins, then the earlier file's; each conflict is
    listed at the end of the output and on stderr.
    """
    from ocr_fix.lexmerge import merge_lexicons

    refuse_input_as_output([output], files)
    texts = []
    for f in files:
        texts.append((str(f), decode_text(read_input(f, "lexicon file"), f, "lexicon", LexiconError)))
    merged = merge_lexicons(texts)
    text = merged.render([str(f) for f in files])
    for c in merged.conflicts:
        sys.stderr.write(
            f"{c.dropped.source}:{c.dropped.line}: {c.dropped.text!r} conflicts with {c.kept.text!r}"
            f" ({c.kept.source}:{c.kept.line}): {c.reason}; kept {c.kept.text!r}\n"
        )
    if output is not None:
        write_atomic(output, text)
    else:
        sys.stdout.write(text)
