"""What every command shares: the common options, finding the corpus, progress, and finishing.

A command parses its options, calls one library function, and hands the result to
:func:`finish`, which renders it the same way for every command (text or the one JSON
envelope) and exits 0 (clean) or 1 (problems). Errors that stop a command are raised as
:class:`chipwar.errors.ChipwarError` and rendered by the group's one handler.
"""

from __future__ import annotations

import sys
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator, NoReturn

import click

from ..corpus import Corpus, find_corpus
from ..errors import EXIT_CLEAN, EXIT_PROBLEMS
from ..render import envelope, render_json, render_text
from ..report import Report, printable

if TYPE_CHECKING:
    from ..engines import Engine

#: Where the chosen output format is kept for the error handler (``ctx.meta`` is shared by nested contexts).
FORMAT_KEY = "chipwar.format"


COMMAND_KEY = "chipwar.command"


def _remember_format(ctx: click.Context, _param: click.Parameter, value: str) -> str:
    ctx.meta[FORMAT_KEY] = value
    ctx.meta[COMMAND_KEY] = ctx.command_path.partition(" ")[2]
    return value


FORMAT = click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
                      callback=_remember_format, is_eager=True, help="Output for people (text) or machines (json).")
CORPUS = click.option("--corpus", "corpus_path", type=click.Path(path_type=Path, file_okay=False), default=".",
                      show_default=True, help="The corpus checkout (a folder with corpus/ and schema/), or any folder inside it.")


def engine_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``--engine`` and ``--address``: where the per-document work runs (see :mod:`chipwar.engines`)."""
    fn = click.option("--address", default=None, metavar="tcp://HOST:PORT",
                      help="With --engine dask: a running Dask scheduler (default: start one on 127.0.0.1 for this run).")(fn)
    return click.option("--engine", "engine_name", type=click.Choice(["local", "dask"]), default="local", show_default=True,
                        help="Where the per-document work runs: this machine's cores, or a Dask cluster (pip install 'chipwar[dask]').")(fn)


@contextmanager
def engine_for(name: str, address: str | None) -> Iterator[Engine]:
    """The engine a command asked for, closed (a cluster it started stopped) when the command ends."""
    from ..engines import engine_for as make

    engine = make(name, address)
    try:
        yield engine
    finally:
        engine.close()


def open_corpus(path: Path) -> Corpus:
    """The corpus at or above ``path`` (raises :class:`chipwar.corpus.CorpusNotFound`, exit 2)."""
    return find_corpus(path)


def output_format() -> str:
    ctx = click.get_current_context(silent=True)
    return ctx.meta.get(FORMAT_KEY, "text") if ctx else "text"


def command_name() -> str:
    ctx = click.get_current_context(silent=True)
    if ctx is None:
        return ""
    return ctx.meta.get(COMMAND_KEY) or ctx.command_path.partition(" ")[2]


def progress(label: str) -> Callable[[int, int], None] | None:
    """A progress line on stderr for long work, when stderr is a terminal."""
    if not sys.stderr.isatty():
        return None

    def show(done: int, total: int) -> None:
        if done == total or done % max(1, total // 100) == 0:
            click.echo(f"\r{label}: {done}/{total} ({100 * done // max(total, 1)}%)", err=True, nl=done == total)

    return show


def finish(report: Report | None = None, result: dict[str, Any] | None = None, lines: list[str] | None = None, *,
           failed: list[str] | None = None, exit_code: int | None = None) -> NoReturn:
    """Render a command's outcome and exit.

    ``lines`` are the text summary (stdout) of a command that went well; ``failed`` the
    lines (stderr) when it found problems. The exit code is 0 when the report is clean
    and 1 when it holds an error, unless ``exit_code`` says otherwise.
    """
    report = report or Report()
    code = exit_code if exit_code is not None else (EXIT_CLEAN if report.ok else EXIT_PROBLEMS)
    ctx = click.get_current_context()
    if output_format() == "json":
        click.echo(render_json(envelope(command_name(), code, report, result)))
        ctx.exit(code)
    if report.problems:
        click.echo(render_text(report))
    for line in lines or []:
        click.echo(printable(line))
    if code != EXIT_CLEAN:
        for line in failed or []:
            click.echo(printable(line), err=True)
    ctx.exit(code)


def import_summary(corpus: Corpus, result: Any, fix_where: str, next_step: str) -> None:
    """Render an import into an annotation set (Label Studio's or brat's result: written, unchanged, conflicts, repaired,
    notices, blocked, report): what was written or why nothing was, and what to do next."""
    data = {"written": [corpus.rel(p) for p in result.written], "unchanged": [corpus.rel(p) for p in result.unchanged],
            "conflicts": [corpus.rel(p) for p in result.conflicts], "repaired": result.repaired, "notices": result.notices}
    lines = [f"note: {printable(line)}" for line in (*result.repaired, *result.notices)]
    failed = []
    if result.report.errors:
        failed.append(f"import: {len(result.report.errors)} problem(s); nothing written. Fix them in {fix_where} and import again.")
    elif result.blocked:
        failed += [f"conflict: {corpus.rel(path)} exists and differs from the import" for path in result.conflicts]
        failed.append("import: nothing written. Compare with `git diff` after --replace, or import under another --annotator.")
    elif not result.written:
        lines.append(f"import: nothing changed since the last import; no file written ({len(result.unchanged)} unchanged).")
    else:
        lines.append(f"import: wrote {len(result.written)} file(s), {len(result.unchanged)} unchanged, "
                     f"{len(result.repaired)} span(s) repaired.")
        lines.append(f"Next: {next_step}")
    finish(result.report, data, lines, failed=failed, exit_code=1 if failed else 0)
